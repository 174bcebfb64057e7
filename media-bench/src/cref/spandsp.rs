//! spandsp (libspandsp-dev): G.711, G.722 and the DTMF receiver.

use std::os::raw::{c_char, c_int, c_void};

#[allow(non_camel_case_types)]
type g711_state_t = c_void;

extern "C" {
    fn g711_init(s: *mut g711_state_t, mode: c_int) -> *mut g711_state_t;
    fn g711_free(s: *mut g711_state_t) -> c_int;
    fn g711_encode(s: *mut g711_state_t, g711_data: *mut u8, amp: *const i16, len: c_int) -> c_int;
    fn g711_decode(
        s: *mut g711_state_t,
        amp: *mut i16,
        g711_data: *const u8,
        g711_bytes: c_int,
    ) -> c_int;
}

/// spandsp's G.711 codec state.
pub struct G711 {
    state: *mut g711_state_t,
}

/// spandsp's G.711 modes.
#[derive(Clone, Copy)]
pub enum G711Mode {
    /// A-law (G711_ALAW = 0).
    Alaw = 0,
    /// µ-law (G711_ULAW = 1).
    Ulaw = 1,
}

impl G711 {
    /// A new codec state; `None` if spandsp fails to allocate.
    pub fn new(mode: G711Mode) -> Option<Self> {
        // SAFETY: a null state asks spandsp to allocate one; it returns null on failure.
        let state = unsafe { g711_init(std::ptr::null_mut(), mode as c_int) };
        (!state.is_null()).then_some(Self { state })
    }

    /// Encodes `pcm` into `out` (at least `pcm.len()` bytes).
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        let n = pcm.len().min(out.len());
        // SAFETY: both buffers hold at least n elements; state is live.
        unsafe { g711_encode(self.state, out.as_mut_ptr(), pcm.as_ptr(), n as c_int) as usize }
    }

    /// Decodes `codes` into `out` (at least `codes.len()` samples).
    pub fn decode(&mut self, codes: &[u8], out: &mut [i16]) -> usize {
        let n = codes.len().min(out.len());
        // SAFETY: both buffers hold at least n elements; state is live.
        unsafe { g711_decode(self.state, out.as_mut_ptr(), codes.as_ptr(), n as c_int) as usize }
    }
}

impl Drop for G711 {
    fn drop(&mut self) {
        // SAFETY: state came from g711_init and is freed once.
        unsafe {
            g711_free(self.state);
        }
    }
}

#[allow(non_camel_case_types)]
type g722_encode_state_t = c_void;
#[allow(non_camel_case_types)]
type g722_decode_state_t = c_void;

extern "C" {
    fn g722_encode_init(
        s: *mut g722_encode_state_t,
        rate: c_int,
        options: c_int,
    ) -> *mut g722_encode_state_t;
    fn g722_encode_free(s: *mut g722_encode_state_t) -> c_int;
    fn g722_encode(
        s: *mut g722_encode_state_t,
        g722_data: *mut u8,
        amp: *const i16,
        len: c_int,
    ) -> c_int;
    fn g722_decode_init(
        s: *mut g722_decode_state_t,
        rate: c_int,
        options: c_int,
    ) -> *mut g722_decode_state_t;
    fn g722_decode_free(s: *mut g722_decode_state_t) -> c_int;
    fn g722_decode(
        s: *mut g722_decode_state_t,
        amp: *mut i16,
        g722_data: *const u8,
        len: c_int,
    ) -> c_int;
}

/// spandsp's G.722 encoder (16 kHz input, one code byte per two samples).
pub struct G722Encoder {
    state: *mut g722_encode_state_t,
}

impl G722Encoder {
    /// A new encoder at `rate` bit/s (64000, 56000 or 48000); `None` if spandsp refuses.
    pub fn new(rate: i32) -> Option<Self> {
        // SAFETY: a null state asks spandsp to allocate one; it returns null on failure.
        let state = unsafe { g722_encode_init(std::ptr::null_mut(), rate, 0) };
        (!state.is_null()).then_some(Self { state })
    }

    /// Encodes the whole pairs of `pcm` that fit in `out`; returns the bytes written.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> usize {
        let n = (pcm.len() / 2).min(out.len()) * 2;
        // SAFETY: pcm holds n samples and out n / 2 bytes; state is live.
        unsafe { g722_encode(self.state, out.as_mut_ptr(), pcm.as_ptr(), n as c_int) as usize }
    }
}

impl Drop for G722Encoder {
    fn drop(&mut self) {
        // SAFETY: state came from g722_encode_init and is freed once.
        unsafe {
            g722_encode_free(self.state);
        }
    }
}

/// spandsp's G.722 decoder (two 16 kHz samples per code byte).
pub struct G722Decoder {
    state: *mut g722_decode_state_t,
}

impl G722Decoder {
    /// A new decoder at `rate` bit/s (64000, 56000 or 48000); `None` if spandsp refuses.
    pub fn new(rate: i32) -> Option<Self> {
        // SAFETY: a null state asks spandsp to allocate one; it returns null on failure.
        let state = unsafe { g722_decode_init(std::ptr::null_mut(), rate, 0) };
        (!state.is_null()).then_some(Self { state })
    }

    /// Decodes the codes whose samples fit in `out`; returns the samples written.
    pub fn decode(&mut self, codes: &[u8], out: &mut [i16]) -> usize {
        let n = codes.len().min(out.len() / 2);
        // SAFETY: codes holds n bytes and out 2 * n samples; state is live.
        unsafe { g722_decode(self.state, out.as_mut_ptr(), codes.as_ptr(), n as c_int) as usize }
    }
}

impl Drop for G722Decoder {
    fn drop(&mut self) {
        // SAFETY: state came from g722_decode_init and is freed once.
        unsafe {
            g722_decode_free(self.state);
        }
    }
}

// --- DTMF receiver ---------------------------------------------------------------------------

#[allow(non_camel_case_types)]
type dtmf_rx_state_t = c_void;
#[allow(non_camel_case_types)]
type digits_rx_callback_t = Option<unsafe extern "C" fn(*mut c_void, *const c_char, c_int)>;
#[allow(non_camel_case_types)]
type tone_report_func_t = Option<unsafe extern "C" fn(*mut c_void, c_int, c_int, c_int)>;

extern "C" {
    fn dtmf_rx_init(
        s: *mut dtmf_rx_state_t,
        callback: digits_rx_callback_t,
        user_data: *mut c_void,
    ) -> *mut dtmf_rx_state_t;
    fn dtmf_rx_free(s: *mut dtmf_rx_state_t) -> c_int;
    fn dtmf_rx(s: *mut dtmf_rx_state_t, amp: *const i16, samples: c_int) -> c_int;
    fn dtmf_rx_get(s: *mut dtmf_rx_state_t, digits: *mut c_char, max: c_int) -> usize;
    fn dtmf_rx_parms(
        s: *mut dtmf_rx_state_t,
        filter_dialtone: c_int,
        twist: c_int,
        reverse_twist: c_int,
        threshold: c_int,
    );
    fn dtmf_rx_set_realtime_callback(
        s: *mut dtmf_rx_state_t,
        callback: tone_report_func_t,
        user_data: *mut c_void,
    );
}

/// A digit edge reported by spandsp's real-time callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfEdge {
    /// The digit that started, or `None` when the current digit ended.
    pub digit: Option<char>,
    /// Samples fed before the `dtmf_rx` call that reported it (the edge lies in that call's
    /// samples or shortly before: feed small chunks for fine timing).
    pub at: u64,
    /// The level spandsp reports (dBm0; -99 at the end of a digit).
    pub level: i32,
    /// The `delay` argument of the callback, as spandsp passes it.
    pub delay: i32,
}

/// What the real-time callback writes into; boxed so its address is stable.
#[derive(Default)]
struct EdgeLog {
    pos: u64,
    edges: Vec<DtmfEdge>,
}

unsafe extern "C" fn on_edge(user_data: *mut c_void, code: c_int, level: c_int, delay: c_int) {
    // SAFETY: user_data is the EdgeLog boxed by DtmfRx, alive as long as the receiver state,
    // and only touched from inside dtmf_rx calls made through &mut DtmfRx.
    let log = unsafe { &mut *user_data.cast::<EdgeLog>() };
    let digit = u8::try_from(code).ok().filter(|&c| c != 0).map(char::from);
    log.edges.push(DtmfEdge {
        digit,
        at: log.pos,
        level,
        delay,
    });
}

/// spandsp's DTMF receiver (8 kHz, 16-bit). Either it buffers digits for `dtmf_rx_get`
/// ([`new`](Self::new)) or it reports digit starts and ends through its real-time callback
/// ([`with_edges`](Self::with_edges)); spandsp does not do both at once.
pub struct DtmfRx {
    state: *mut dtmf_rx_state_t,
    log: Box<EdgeLog>,
    edges: bool,
}

impl DtmfRx {
    /// A receiver with spandsp's defaults that buffers digits; `None` if spandsp fails to
    /// allocate.
    pub fn new() -> Option<Self> {
        // SAFETY: a null state asks spandsp to allocate one; no digit callback, so digits
        // queue up for dtmf_rx_get.
        let state = unsafe { dtmf_rx_init(std::ptr::null_mut(), None, std::ptr::null_mut()) };
        (!state.is_null()).then(|| Self {
            state,
            log: Box::default(),
            edges: false,
        })
    }

    /// A receiver that reports digit edges (see [`take_edges`](Self::take_edges)).
    pub fn with_edges() -> Option<Self> {
        let mut rx = Self::new()?;
        let user: *mut EdgeLog = &mut *rx.log;
        // SAFETY: state is live; the log outlives it (Drop frees the state first).
        unsafe { dtmf_rx_set_realtime_callback(rx.state, Some(on_edge), user.cast()) };
        rx.edges = true;
        Some(rx)
    }

    /// `dtmf_rx_parms`: dial-tone filter on/off (`None` leaves it), acceptable normal and
    /// reverse twist in dB and the minimum tone level in dBm0 (`None` leaves each unchanged).
    pub fn set_parms(
        &mut self,
        filter_dialtone: Option<bool>,
        twist_db: Option<i32>,
        reverse_twist_db: Option<i32>,
        threshold_dbm0: Option<i32>,
    ) {
        let f = filter_dialtone.map_or(-1, c_int::from);
        // SAFETY: state is live; negative / <= -99 values mean "unchanged".
        unsafe {
            dtmf_rx_parms(
                self.state,
                f,
                twist_db.unwrap_or(-1),
                reverse_twist_db.unwrap_or(-1),
                threshold_dbm0.unwrap_or(-99),
            )
        }
    }

    /// Feeds samples (any count).
    pub fn process(&mut self, amp: &[i16]) {
        for chunk in amp.chunks(c_int::MAX as usize) {
            // SAFETY: the buffer holds chunk.len() samples; state is live.
            unsafe { dtmf_rx(self.state, chunk.as_ptr(), chunk.len() as c_int) };
            self.log.pos += chunk.len() as u64;
        }
    }

    /// Takes the digits detected so far. spandsp keeps at most 128 and drops the rest, so
    /// call this at least every 128 digits. In edge mode: the digits that started, from the
    /// edges (which this consumes).
    pub fn take_digits(&mut self) -> String {
        if self.edges {
            return self.take_edges().iter().filter_map(|e| e.digit).collect();
        }
        let mut out = String::new();
        let mut buf = [0 as c_char; 129];
        let max = buf.len() - 1;
        loop {
            // SAFETY: spandsp copies at most `max` digits and writes a terminator after them:
            // max + 1 chars, which buf holds.
            let n = unsafe { dtmf_rx_get(self.state, buf.as_mut_ptr(), max as c_int) };
            let n = n.min(max);
            out.extend(buf[..n].iter().map(|&c| char::from(c as u8)));
            if n < max {
                return out;
            }
        }
    }

    /// Takes the digit edges reported so far.
    pub fn take_edges(&mut self) -> Vec<DtmfEdge> {
        std::mem::take(&mut self.log.edges)
    }
}

impl Drop for DtmfRx {
    fn drop(&mut self) {
        // SAFETY: state came from dtmf_rx_init and is freed once, before the log it points to.
        unsafe {
            dtmf_rx_free(self.state);
        }
    }
}
