// SPDX-License-Identifier: GPL-2.0

//! The packet (`struct sk_buff`) as a helper sees it: its length, its TCP header, and its
//! bytes (in place where linear, else copied). Changing it (NAT's rewrite, nf/nat.rs) takes
//! `&mut Skb`: it may reallocate the data, so no slice borrowed from [`Skb::bytes`] can
//! outlive it.

use super::bindings;
use core::mem::MaybeUninit;
use kernel::types::Opaque;

/// The most payload bytes [`Skb::with_copy`] copies onto the stack: a full segment on a path
/// with a 1,500-byte MTU (IPv4 without options), so that every control line of such a path is
/// parsed without a lock. The frame that holds it (the crate root's `parse_copy`, reached only
/// by non-linear segments at a line start, and returned from before the expectation or NAT's
/// rewrite) is 1,712 bytes on x86-64, on the project kernel and on Debian's stock 7.2 alike
/// (objdump: 1,656 for locals, six saved registers, the return address): under the 2 KiB
/// above which the kernel warns of a 64-bit C frame (`FRAME_WARN`; it does not check Rust
/// frames).
pub(crate) const STACK_COPY_MAX: usize = 1460;

/// A packet handed to a helper callback.
#[repr(transparent)]
pub(crate) struct Skb(Opaque<bindings::sk_buff>);

/// What a helper needs of a TCP header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpHeader {
    /// Sequence number of the segment's first byte.
    pub(crate) seq: u32,
    /// Header length in bytes (`doff * 4`).
    pub(crate) len: u32,
}

impl Skb {
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` that stays valid, is not freed and is not
    /// reached otherwise for `'a` (true for the `skb` argument of a helper callback, for the
    /// callback's duration: the packet belongs to the path that calls it).
    pub(crate) unsafe fn from_raw_mut<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Self {
        // CAST: `Skb` is a transparent wrapper of `Opaque<sk_buff>`, itself of `sk_buff`.
        // SAFETY: valid and not reached otherwise for `'a` by the caller's guarantee.
        unsafe { &mut *ptr.cast() }
    }
    pub(crate) fn as_ptr(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// `skb->len`: bytes from the network header on (all of the packet here).
    #[inline]
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: `self` is a valid skb (see `from_raw_mut`); `len` is a plain field.
        unsafe { (*self.as_ptr()).len }
    }

    /// The bytes `offset..offset + len` of the packet where they lie in its linear part, read
    /// in place: `skb_header_pointer`'s fast path, without a call. `None` where any of them
    /// lies in a fragment (or beyond the packet).
    #[inline]
    pub(crate) fn linear(&self, offset: u32, len: u32) -> Option<&[u8]> {
        let skb = self.as_ptr();
        // SAFETY: `self` is a valid skb (see `from_raw_mut`); plain fields.
        let (total, paged, data) = unsafe { ((*skb).len, (*skb).data_len, (*skb).data) };
        // `skb_headlen()`: the bytes at `data`; the rest lies in fragments.
        let headlen = total.checked_sub(paged)?;
        if offset.checked_add(len)? > headlen {
            return None;
        }
        // SAFETY: `data` points to `headlen` bytes of packet data (the linear part), and
        // `offset + len <= headlen`. Changing the packet (which may move `data`) takes
        // `&mut Skb`, so the bytes stay in place while the slice borrows `self`.
        Some(unsafe { core::slice::from_raw_parts(data.add(offset as usize), len as usize) })
    }

    /// Copies the bytes `offset..offset + len` of the packet to `to`: one `memcpy()` where
    /// they lie in one page fragment, else `skb_copy_bits()` (nf/skb.c). `None` if the packet
    /// is shorter.
    ///
    /// # Safety
    ///
    /// `to` is valid for writes of `len` bytes.
    #[inline]
    unsafe fn copy_to(&self, offset: u32, to: *mut u8, len: usize) -> Option<()> {
        let len = u32::try_from(len).ok()?;
        // SAFETY: the skb is valid (see `from_raw_mut`) and only read; `to` is writable for
        // `len` bytes by the caller's guarantee. The function copies with C's `memcpy()`:
        // bytes another CPU may write meanwhile (a page spliced from a file that is being
        // written) are read by C, never through a Rust reference.
        let err = unsafe { bindings::nf_ftp_rs_copy_bits(self.as_ptr(), offset, to.cast(), len) };
        (err == 0).then_some(())
    }

    /// The bytes `offset..offset + buf.len()` of the packet: in place where they are linear,
    /// otherwise copied into `buf`. `None` if the packet is shorter.
    #[inline]
    pub(crate) fn bytes<'a>(&'a self, offset: u32, buf: &'a mut [u8]) -> Option<&'a [u8]> {
        let len = u32::try_from(buf.len()).ok()?;
        if let Some(bytes) = self.linear(offset, len) {
            return Some(bytes);
        }
        // SAFETY: `buf` is writable for `buf.len()` bytes.
        unsafe { self.copy_to(offset, buf.as_mut_ptr(), buf.len()) }?;
        Some(buf)
    }

    /// Calls `f` with the bytes `offset..offset + len` of the packet copied onto the stack:
    /// no lock, no allocation. `None` if `len` is over [`STACK_COPY_MAX`] or the packet is
    /// shorter. For payloads that are not linear (see [`Skb::linear`]).
    #[inline]
    pub(crate) fn with_copy<R>(
        &self,
        offset: u32,
        len: u32,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let n = len as usize;
        if n > STACK_COPY_MAX {
            return None;
        }
        let mut buf = MaybeUninit::<[u8; STACK_COPY_MAX]>::uninit();
        // SAFETY: `buf` is writable for `STACK_COPY_MAX >= n` bytes.
        unsafe { self.copy_to(offset, buf.as_mut_ptr().cast::<u8>(), n) }?;
        // SAFETY: `copy_to` succeeded: it wrote the `n` bytes at `buf`'s start.
        let bytes = unsafe { core::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
        Some(f(bytes))
    }

    /// The byte at `offset`; `None` if the packet is shorter.
    #[inline]
    pub(crate) fn byte(&self, offset: u32) -> Option<u8> {
        let mut b = [0u8; 1];
        self.bytes(offset, &mut b).map(|s| s[0])
    }

    /// The TCP header at `protoff`.
    #[inline]
    pub(crate) fn tcp_header(&self, protoff: u32) -> Option<TcpHeader> {
        let mut raw = [0u8; 20];
        let th = self.bytes(protoff, &mut raw)?;
        Some(TcpHeader {
            seq: u32::from_be_bytes([th[4], th[5], th[6], th[7]]),
            len: u32::from(th[12] >> 4) * 4,
        })
    }
}
