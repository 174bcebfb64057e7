//! The Ogg page layer (RFC 3533): page framing, lacing and the CRC. [`PageWriter`] splits
//! packets into pages, and packets across pages when a page's 255 segments fill up, as libogg
//! does. [`PageReader`] finds pages in a byte stream, checks their CRC, and resynchronises on
//! the next capture pattern after damage. Memory is fixed: two pages' worth of buffer.

use crate::error::ContainerError;
use std::io::{Read, Write};

/// The page continues a packet begun on the previous page.
pub const FLAG_CONTINUED: u8 = 0x01;
/// The first page of a logical stream.
pub const FLAG_BOS: u8 = 0x02;
/// The last page of a logical stream.
pub const FLAG_EOS: u8 = 0x04;

const CAPTURE: &[u8; 4] = b"OggS";
const HEADER_LEN: usize = 27;
/// The largest page: header, 255 lacing values, 255 segments of 255 bytes.
pub const MAX_PAGE: usize = HEADER_LEN + 255 + 255 * 255;

static CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04c1_1db7
            } else {
                r << 1
            };
            k += 1;
        }
        t[i] = r;
        i += 1;
    }
    t
};

fn crc_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = (crc << 8) ^ CRC_TABLE[((crc >> 24) as u8 ^ b) as usize];
    }
    crc
}

/// The Ogg CRC-32 (polynomial 0x04c11db7, no reflection, zero initial value) of `page`, whose
/// CRC field (bytes 22..26) is taken as zero.
pub fn page_crc(page: &[u8]) -> u32 {
    if page.len() < HEADER_LEN {
        return crc_update(0, page);
    }
    let crc = crc_update(0, &page[..22]);
    let crc = crc_update(crc, &[0; 4]);
    crc_update(crc, &page[26..])
}

/// The fixed fields of a page header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageHeader {
    /// [`FLAG_CONTINUED`], [`FLAG_BOS`], [`FLAG_EOS`].
    pub flags: u8,
    /// The granule position; `None` when no packet ends on the page (-1 on the wire).
    pub granule: Option<u64>,
    /// The logical stream's serial number.
    pub serial: u32,
    /// The page's sequence number within its stream.
    pub sequence: u32,
    /// The number of lacing values.
    pub segments: u8,
}

/// Writes the pages of one logical stream.
#[derive(Debug)]
pub struct PageWriter {
    serial: u32,
    sequence: u32,
    lacing: Vec<u8>,
    body: Vec<u8>,
    page: Vec<u8>,
    /// The granule of the last packet completed on the pending page.
    granule: Option<u64>,
    /// The pending page starts inside a packet.
    continued: bool,
    /// No page written yet: the next one is BOS.
    first: bool,
    /// The granule of the last page written that had one.
    last_written_granule: u64,
}

impl PageWriter {
    /// A writer for stream `serial`.
    pub fn new(serial: u32) -> Self {
        Self {
            serial,
            sequence: 0,
            lacing: Vec::with_capacity(255),
            body: Vec::with_capacity(255 * 255),
            page: Vec::with_capacity(MAX_PAGE),
            granule: None,
            continued: false,
            first: true,
            last_written_granule: 0,
        }
    }

    /// Whether anything is waiting to be written.
    pub fn has_pending(&self) -> bool {
        !self.lacing.is_empty()
    }

    /// The granule of the last page written that had one (0 before any).
    pub fn last_written_granule(&self) -> u64 {
        self.last_written_granule
    }

    /// Adds a packet that ends at `granule`. Pages that fill up on the way are written to
    /// `out`; the rest waits for more packets or [`Self::flush`].
    pub fn push_packet<W: Write>(
        &mut self,
        out: &mut W,
        packet: &[u8],
        granule: u64,
    ) -> std::io::Result<()> {
        let mut rest = packet;
        let mut first_segment = true;
        loop {
            if self.lacing.len() == 255 {
                self.write_page(out, 0)?;
                // A page that filled up inside this packet leaves the next one continuing it.
                self.continued = !first_segment;
            }
            let take = rest.len().min(255);
            self.lacing.push(take as u8);
            self.body.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            first_segment = false;
            if take < 255 {
                break;
            }
        }
        self.granule = Some(granule);
        Ok(())
    }

    /// Changes the granule of the pending page (for end trimming on the last page).
    pub fn set_pending_granule(&mut self, granule: u64) {
        if self.granule.is_some() {
            self.granule = Some(granule);
        }
    }

    /// Writes the pending page, with `extra_flags` ([`FLAG_EOS`]). With nothing pending, an
    /// empty page is written only when `extra_flags` asks for EOS.
    pub fn flush<W: Write>(&mut self, out: &mut W, extra_flags: u8) -> std::io::Result<()> {
        if self.has_pending() || extra_flags & FLAG_EOS != 0 {
            self.write_page(out, extra_flags)?;
        }
        Ok(())
    }

    fn write_page<W: Write>(&mut self, out: &mut W, extra_flags: u8) -> std::io::Result<()> {
        let mut flags = extra_flags;
        if self.continued {
            flags |= FLAG_CONTINUED;
        }
        if self.first {
            flags |= FLAG_BOS;
        }
        let granule = self.granule.map_or(u64::MAX, |g| g);
        self.page.clear();
        self.page.extend_from_slice(CAPTURE);
        self.page.push(0);
        self.page.push(flags);
        self.page.extend_from_slice(&granule.to_le_bytes());
        self.page.extend_from_slice(&self.serial.to_le_bytes());
        self.page.extend_from_slice(&self.sequence.to_le_bytes());
        self.page.extend_from_slice(&[0; 4]);
        self.page.push(self.lacing.len() as u8);
        self.page.extend_from_slice(&self.lacing);
        self.page.extend_from_slice(&self.body);
        let crc = page_crc(&self.page);
        self.page[22..26].copy_from_slice(&crc.to_le_bytes());
        out.write_all(&self.page)?;
        self.sequence = self.sequence.wrapping_add(1);
        if let Some(g) = self.granule {
            self.last_written_granule = g;
        }
        self.lacing.clear();
        self.body.clear();
        self.granule = None;
        self.continued = false;
        self.first = false;
        Ok(())
    }
}

/// Where the current page sits in the buffer.
#[derive(Debug, Clone, Copy)]
struct Current {
    start: usize,
    header_len: usize,
    total: usize,
}

/// Reads pages from a byte stream. The page last returned stays readable through
/// [`Self::lacing`] and [`Self::body`] until the next call to [`Self::next_page`].
#[derive(Debug)]
pub struct PageReader<R> {
    src: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    eof: bool,
    current: Option<Current>,
    /// Damaged stretches skipped so far.
    corrupt: u64,
    /// Skipping damage: further damage before the next good page is the same stretch.
    resyncing: bool,
}

impl<R: Read> PageReader<R> {
    /// A reader of `src`.
    pub fn new(src: R) -> Self {
        Self {
            src,
            buf: vec![0u8; 2 * MAX_PAGE].into_boxed_slice(),
            start: 0,
            end: 0,
            eof: false,
            current: None,
            corrupt: 0,
            resyncing: false,
        }
    }

    /// How many damaged stretches (bad CRC, junk, truncation) have been skipped.
    pub fn corrupt_count(&self) -> u64 {
        self.corrupt
    }

    /// Makes at least `n` (at most [`MAX_PAGE`]) bytes available from `start`; `false` when
    /// the source ends first.
    fn fill(&mut self, n: usize) -> std::io::Result<bool> {
        while self.end - self.start < n {
            if self.eof {
                return Ok(false);
            }
            if self.buf.len() - self.start < n {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Whether the source starts with the Ogg capture pattern (reads nothing away).
    pub fn starts_with_capture(&mut self) -> std::io::Result<bool> {
        Ok(self.fill(4)? && &self.buf[self.start..self.start + 4] == CAPTURE)
    }

    /// Reports damage once per damaged stretch: silent while already resynchronising.
    fn damage(&mut self, why: &'static str) -> Result<(), ContainerError> {
        if self.resyncing {
            return Ok(());
        }
        self.resyncing = true;
        self.corrupt += 1;
        Err(ContainerError::Corrupt(why))
    }

    /// The next intact page, `Ok(None)` at the end of the source. A damaged stretch (junk, a
    /// bad CRC, a truncated page) is reported once as [`ContainerError::Corrupt`]; the next
    /// call carries on after it.
    pub fn next_page(&mut self) -> Result<Option<PageHeader>, ContainerError> {
        if let Some(c) = self.current.take() {
            self.start = c.start + c.total;
        }
        loop {
            if !self.fill(HEADER_LEN)? {
                let trailing = self.end > self.start;
                self.start = self.end;
                if trailing {
                    self.damage("truncated page at the end")?;
                }
                return Ok(None);
            }
            let window = &self.buf[self.start..self.end];
            if !window.starts_with(CAPTURE) {
                // Skip to the next capture pattern (or keep the last 3 bytes, which may begin
                // one).
                let skip = window
                    .windows(4)
                    .skip(1)
                    .position(|w| w == CAPTURE)
                    .map_or(window.len() - 3, |p| p + 1);
                self.start += skip;
                self.damage("junk between pages")?;
                continue;
            }
            let h = &self.buf[self.start..self.start + HEADER_LEN];
            let version = h[4];
            let flags = h[5];
            let granule = u64::from_le_bytes([h[6], h[7], h[8], h[9], h[10], h[11], h[12], h[13]]);
            let serial = u32::from_le_bytes([h[14], h[15], h[16], h[17]]);
            let sequence = u32::from_le_bytes([h[18], h[19], h[20], h[21]]);
            let crc = u32::from_le_bytes([h[22], h[23], h[24], h[25]]);
            let segments = h[26];
            if version != 0 {
                self.start += 1;
                self.damage("unknown page version")?;
                continue;
            }
            let header_len = HEADER_LEN + usize::from(segments);
            let total = if self.fill(header_len)? {
                let lacing = &self.buf[self.start + HEADER_LEN..self.start + header_len];
                header_len + lacing.iter().map(|&l| usize::from(l)).sum::<usize>()
            } else {
                usize::MAX
            };
            if total == usize::MAX || !self.fill(total)? {
                // Perhaps a damaged length: look for a page further on before giving up.
                self.start += 1;
                self.damage("truncated page")?;
                continue;
            }
            if page_crc(&self.buf[self.start..self.start + total]) != crc {
                // The lengths may be what is damaged: resynchronise from the next byte.
                self.start += 1;
                self.damage("page CRC mismatch")?;
                continue;
            }
            self.resyncing = false;
            self.current = Some(Current {
                start: self.start,
                header_len,
                total,
            });
            // The top bit set is -1 (no packet ends here) or an invalid negative position.
            let granule = (granule >> 63 == 0).then_some(granule);
            return Ok(Some(PageHeader {
                flags,
                granule,
                serial,
                sequence,
                segments,
            }));
        }
    }

    /// The lacing values of the page last returned (empty if none).
    pub fn lacing(&self) -> &[u8] {
        match self.current {
            Some(c) => &self.buf[c.start + HEADER_LEN..c.start + c.header_len],
            None => &[],
        }
    }

    /// The body of the page last returned (empty if none).
    pub fn body(&self) -> &[u8] {
        match self.current {
            Some(c) => &self.buf[c.start + c.header_len..c.start + c.total],
            None => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_known_page() {
        // CRC-32/POSIX (check value 0x765e7680) without its final inversion.
        assert_eq!(crc_update(0, b"123456789"), 0x89a1_897f);
    }

    fn pages(bytes: &[u8]) -> Vec<(PageHeader, Vec<u8>, Vec<u8>)> {
        let mut r = PageReader::new(bytes);
        let mut out = Vec::new();
        while let Some(h) = r.next_page().unwrap() {
            out.push((h, r.lacing().to_vec(), r.body().to_vec()));
        }
        out
    }

    #[test]
    fn packets_fill_pages_and_span_them() {
        let mut w = PageWriter::new(7);
        let mut bytes = Vec::new();
        // 100 packets of 700 bytes: 3 lacing values each, so a page holds 85 of them.
        let packet = vec![0xabu8; 700];
        for i in 0..100u64 {
            w.push_packet(&mut bytes, &packet, i).unwrap();
        }
        w.flush(&mut bytes, FLAG_EOS).unwrap();
        let p = pages(&bytes);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0.flags, FLAG_BOS);
        assert_eq!(p[0].0.granule, Some(84));
        assert_eq!(p[0].0.segments, 255);
        assert_eq!(p[1].0.flags, FLAG_EOS);
        assert_eq!(p[1].0.granule, Some(99));
        assert_eq!((p[0].0.sequence, p[1].0.sequence), (0, 1));

        // A 70000-byte packet spans two pages; the first ends no packet.
        let mut w = PageWriter::new(7);
        let mut bytes = Vec::new();
        w.push_packet(&mut bytes, &vec![1u8; 70000], 5).unwrap();
        w.flush(&mut bytes, FLAG_EOS).unwrap();
        let p = pages(&bytes);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].0.granule, None);
        assert_eq!(p[1].0.flags, FLAG_CONTINUED | FLAG_EOS);
        assert_eq!(p[1].0.granule, Some(5));
        assert_eq!(p[0].2.len() + p[1].2.len(), 70000);
    }

    #[test]
    fn resyncs_after_junk_and_damage() {
        let mut w = PageWriter::new(1);
        let mut bytes = b"junk".to_vec();
        for i in 0..3u64 {
            w.push_packet(&mut bytes, &[i as u8; 10], i).unwrap();
            w.flush(&mut bytes, 0).unwrap();
        }
        // Damage the last page's body.
        let n = bytes.len();
        bytes[n - 1] ^= 0xff;
        let mut r = PageReader::new(&bytes[..]);
        assert!(matches!(r.next_page(), Err(ContainerError::Corrupt(_))));
        assert_eq!(r.next_page().unwrap().unwrap().granule, Some(0));
        assert_eq!(r.next_page().unwrap().unwrap().granule, Some(1));
        assert!(matches!(r.next_page(), Err(ContainerError::Corrupt(_))));
        assert!(r.next_page().unwrap().is_none());
        assert_eq!(r.corrupt_count(), 2);

        // A page cut short at the end of the source.
        let mut r = PageReader::new(&bytes[4..bytes.len() - 5]);
        assert!(r.next_page().unwrap().is_some());
        assert!(r.next_page().unwrap().is_some());
        assert!(matches!(r.next_page(), Err(ContainerError::Corrupt(_))));
        assert!(r.next_page().unwrap().is_none());
    }
}
