// SPDX-License-Identifier: GPL-2.0

//! The packet (`struct sk_buff`) as a helper sees it: its length, its TCP header, and its
//! bytes (in place where linear or in one page fragment, else copied). Changing it (NAT's
//! rewrite, nf/nat.rs) takes `&mut Skb`: it may reallocate the data, so no slice borrowed
//! from [`Skb::bytes`] or [`Skb::fragment`] can outlive it.

use super::bindings;
use core::ffi::c_void;
use core::mem::MaybeUninit;
use kernel::types::Opaque;

/// The most payload bytes [`Skb::with_copy`] copies onto the stack: a full segment on a path
/// with a 1,500-byte MTU (IPv4 without options), so that every control line of such a path is
/// parsed without a lock. The frame that holds it (the crate root's `parse_copy`, reached only
/// by non-linear segments at a line start, and returned from before the expectation or NAT's
/// rewrite) is 1,768 bytes on x86-64 on the project kernel and 1,608 on Debian's stock 7.2
/// (objdump): under the 2 KiB above which the kernel warns of a 64-bit C frame (`FRAME_WARN`;
/// it does not check Rust frames).
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

    /// The bytes `offset..offset + len` of the packet where they all lie in one of its page
    /// fragments and no one else writes that fragment (nf/skb.c: not spliced, zero-copy or
    /// device memory), read in place. `None` otherwise (or where `len` is 0): then they are
    /// to be copied. A call; for bytes that are not linear (see [`Skb::linear`]).
    #[inline]
    pub(crate) fn fragment(&self, offset: u32, len: u32) -> Option<&[u8]> {
        // SAFETY: `self` is a valid skb (see `from_raw_mut`); the function only reads it.
        let p = unsafe { bindings::nf_ftp_rs_frag_bytes(self.as_ptr(), offset, len) };
        if p.is_null() {
            return None;
        }
        // SAFETY: non-null, `p` points to `len` bytes of one fragment of the packet, in the
        // kernel's direct map, in a page the packet holds a reference on. No one writes them
        // meanwhile: pages a writer shares (spliced, vmspliced, zero-copy) carry flags the
        // function refuses, and the kernel writes a fragment in place only through a packet
        // it holds alone (`skb_cow_data()` and `skb_ensure_writable()` copy cloned or shared
        // data first): this one, whose changes (NAT's rewrite) take `&mut Skb`. So while the
        // slice borrows `self` the bytes stay in place and unchanged.
        Some(unsafe { core::slice::from_raw_parts(p, len as usize) })
    }

    /// The bytes `offset..offset + buf.len()` of the packet: in place where they are linear
    /// or in one page fragment ([`Skb::fragment`]), otherwise copied into `buf`
    /// (`skb_header_pointer`). `None` if the packet is shorter.
    #[inline]
    pub(crate) fn bytes<'a>(&'a self, offset: u32, buf: &'a mut [u8]) -> Option<&'a [u8]> {
        let len = u32::try_from(buf.len()).ok()?;
        if let Some(bytes) = self.linear(offset, len) {
            return Some(bytes);
        }
        if let Some(bytes) = self.fragment(offset, len) {
            return Some(bytes);
        }
        let len = i32::try_from(len).ok()?;
        let offset = i32::try_from(offset).ok()?;
        // SAFETY: the skb is valid; `buf` is writable for `len` bytes.
        let p = unsafe {
            bindings::skb_header_pointer(
                self.as_ptr(),
                offset,
                len,
                buf.as_mut_ptr().cast::<c_void>(),
            )
        };
        if p.is_null() {
            return None;
        }
        // SAFETY: `skb_header_pointer` returned either `buf` or a pointer into the skb's
        // linear data, valid for `len` bytes for as long as the skb (and `buf`) are borrowed.
        Some(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), buf.len()) })
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
        let offset = i32::try_from(offset).ok()?;
        // SAFETY: the skb is valid (see `from_raw_mut`); `buf` is writable for
        // `STACK_COPY_MAX >= n` bytes, and `n` fits an `i32`.
        let err = unsafe {
            bindings::skb_copy_bits(
                self.as_ptr(),
                offset,
                buf.as_mut_ptr().cast::<c_void>(),
                n as i32,
            )
        };
        if err != 0 {
            return None;
        }
        // SAFETY: `skb_copy_bits` returned 0: it wrote the `n` bytes at `buf`'s start.
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
