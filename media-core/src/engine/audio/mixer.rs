//! The conference mixer: every participant hears everyone else.
//!
//! # Model (pjmedia's conference bridge, sans-IO)
//!
//! An [`AudioMixer`] runs at one internal rate (8, 16, 32 or 48 kHz) on a tick of 10 or 20 ms
//! that the caller drives: per tick it pushes each participant's input
//! ([`push_pcm`](AudioMixer::push_pcm) at the participant's own rate, or
//! [`push_packet`](AudioMixer::push_packet) for a participant with a codec), calls
//! [`tick`](AudioMixer::tick), and takes each participant's output
//! ([`output`](AudioMixer::output) / [`pull_pcm`](AudioMixer::pull_pcm), or
//! [`packet`](AudioMixer::packet) encoded in the participant's codec). A participant that
//! pushed nothing for a tick is silent for it (a codec participant is concealed).
//!
//! Topology changes ([`join`](AudioMixer::join), [`leave`](AudioMixer::leave),
//! [`mute`](AudioMixer::mute), [`unmute`](AudioMixer::unmute),
//! [`set_volume`](AudioMixer::set_volume)) are queued and applied, in order, at the start of the
//! next tick, so a frame is always mixed from one consistent topology. `join` builds the whole
//! participant at once (resamplers, codec, VAD, buffers); the tick itself never allocates.
//!
//! # Mixing: O(N)
//!
//! Each participant's input is decoded if it has a codec, resampled to the internal rate,
//! optionally delayed (alignment), scaled by its volume, and added once to a wide (`i32`) sum
//! of all unmuted contributions. Each output is `total - own contribution`: the N-1 mix of
//! everyone else in O(N) for all N outputs together, not O(N^2). Levels are preserved: there is
//! no 1/N scaling, so two people talking sound as loud as they are. When a mix would exceed
//! full scale, the output's own limiter (module `limiter`: smooth gain, the frame as
//! look-ahead, no added latency, slow release) brings it under -0.18 dBFS; while no output
//! clips, every output is bit-identical to the integer sum of the others' samples. The N-1
//! mix is then resampled to the participant's output rate and encoded in its codec, so
//! participants on different codecs are transcoded through the mixer.
//!
//! # Active speaker
//!
//! With [`MixerConfig::vad`] on, every participant has its own
//! [`VoiceActivityDetector`](crate::processing::audio::VoiceActivityDetector) (never one shared
//! by all: a detector's noise floor and hangover are one talker's), run on its input at the
//! internal rate. The loudest participant whose detector says speech becomes the active speaker
//! after a short lead, and takes the floor from someone still talking only after a longer one,
//! so it does not flicker; changes come out as [`MixerEvent::ActiveSpeaker`] through
//! [`poll_event`](AudioMixer::poll_event).

use std::collections::VecDeque;
use std::fmt;

use super::limiter::Limiter;
use super::participant::Participant;
use super::speaker::SpeakerTracker;
use crate::codec::{CodecParams, CodecRegistry};
use crate::error::{CodecError, FormatError};
use crate::frame::SampleRate;
use crate::processing::format::Resampler;

/// Most participants a mixer can be configured for.
pub const MAX_PARTICIPANTS: usize = 65_536;
/// Events kept for [`AudioMixer::poll_event`]; beyond that the oldest are dropped (counted).
const EVENT_CAPACITY: usize = 256;

/// Why the mixer refused a call. The mixer is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MixerError {
    /// The configuration (mixer or participant) is invalid.
    InvalidConfig(String),
    /// No such participant (never joined, or left).
    UnknownParticipant(ParticipantId),
    /// The mixer holds its maximum number of participants.
    Full,
    /// Too many commands are queued for the next tick.
    QueueFull,
    /// A buffer has the wrong length for one tick.
    BadLength {
        /// What was given.
        got: usize,
        /// What one tick needs.
        expected: usize,
    },
    /// A packet was pushed for a participant without a codec.
    NotCodec,
    /// PCM was pushed for a participant with a codec (it takes packets).
    CodecParticipant,
    /// The participant's codec could not be made.
    Codec(CodecError),
    /// A resampler could not be made.
    Format(FormatError),
}

impl fmt::Display for MixerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(why) => write!(f, "invalid mixer configuration: {why}"),
            Self::UnknownParticipant(id) => write!(f, "no participant {id}"),
            Self::Full => write!(f, "the mixer is full"),
            Self::QueueFull => write!(f, "too many mixer commands queued for one tick"),
            Self::BadLength { got, expected } => {
                write!(f, "buffer of {got} samples, one tick is {expected}")
            }
            Self::NotCodec => write!(f, "the participant has no codec"),
            Self::CodecParticipant => write!(f, "the participant takes packets, not PCM"),
            Self::Codec(e) => write!(f, "participant codec: {e}"),
            Self::Format(e) => write!(f, "participant resampler: {e}"),
        }
    }
}

impl std::error::Error for MixerError {}

/// A participant's handle: a slot and a generation, so a stale handle never reaches a new
/// participant in a reused slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParticipantId(u64);

impl ParticipantId {
    fn new(slot: usize, generation: u32) -> Self {
        Self((u64::from(generation) << 32) | slot as u64)
    }

    /// The handle's raw value (for logs and maps).
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// A handle from a raw value (as [`raw`](Self::raw) gave).
    pub const fn from_raw(raw: u64) -> Self {
        Self(raw)
    }

    fn slot(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }

    fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}.{}", self.slot(), self.generation())
    }
}

/// Configuration of an [`AudioMixer`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MixerConfig {
    /// The internal rate: 8, 16, 32 or 48 kHz.
    pub sample_rate: SampleRate,
    /// The tick: 10 or 20 ms.
    pub tick_ms: u32,
    /// Most participants at once (1..=[`MAX_PARTICIPANTS`]).
    pub max_participants: usize,
    /// One voice activity detector per participant, and the active speaker from them.
    pub vad: bool,
}

impl Default for MixerConfig {
    fn default() -> Self {
        Self {
            sample_rate: SampleRate::HZ_16000,
            tick_ms: 20,
            max_participants: 64,
            vad: true,
        }
    }
}

/// A participant's codec: packets in and out instead of PCM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParticipantCodec {
    /// Codec name in the registry (`pcmu`, `g722`, `opus`, ...).
    pub name: String,
    /// Its parameters; `ptime_ms` must be the mixer's tick and `channels` 1.
    pub params: CodecParams,
}

/// How a participant joins.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantConfig {
    /// Rate of the PCM it pushes (ignored with a codec: the codec's rate).
    pub input_rate: u32,
    /// Rate of the PCM it receives (ignored with a codec).
    pub output_rate: u32,
    /// Encoded packets in and out, through the registry.
    pub codec: Option<ParticipantCodec>,
    /// Gain applied to what it contributes (0..=8; 1 = as is).
    pub volume: f32,
    /// Joins muted.
    pub muted: bool,
    /// Extra delay of its input at the internal rate, in samples (to align participants whose
    /// resamplers have different latencies; see [`input_latency`]).
    pub input_delay: usize,
}

impl ParticipantConfig {
    /// A PCM participant at `rate` both ways, volume 1, unmuted.
    pub fn pcm(rate: u32) -> Self {
        Self {
            input_rate: rate,
            output_rate: rate,
            codec: None,
            volume: 1.0,
            muted: false,
            input_delay: 0,
        }
    }

    /// A participant with a codec (`params.ptime_ms` must be the mixer's tick).
    pub fn codec(name: &str, params: CodecParams) -> Self {
        Self {
            input_rate: params.sample_rate,
            output_rate: params.sample_rate,
            codec: Some(ParticipantCodec {
                name: name.to_string(),
                params,
            }),
            ..Self::pcm(8000)
        }
    }
}

/// The latency, in samples at `mixer_rate`, of the resampler a participant pushing PCM at
/// `input_rate` goes through (0 at the mixer's rate).
pub fn input_latency(input_rate: u32, mixer_rate: u32) -> Result<usize, MixerError> {
    if input_rate == mixer_rate {
        return Ok(0);
    }
    Resampler::new(input_rate, mixer_rate, 1)
        .map(|r| r.latency())
        .map_err(MixerError::Format)
}

/// What the mixer reports, pulled with [`AudioMixer::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MixerEvent {
    /// A participant's join took effect at a tick.
    Joined(ParticipantId),
    /// A participant's leave took effect at a tick.
    Left(ParticipantId),
    /// The active speaker changed (`None`: the active speaker left).
    ActiveSpeaker(Option<ParticipantId>),
}

/// Counters since the mixer was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MixerStats {
    /// Ticks run.
    pub ticks: u64,
    /// Participants mixed now.
    pub participants: usize,
    /// Outputs (one per participant per tick, plus the all-mix) the limiter acted on.
    pub limited_frames: u64,
    /// Packets that failed to decode (concealed instead).
    pub decode_errors: u64,
    /// Events dropped because nobody polled them.
    pub events_dropped: u64,
}

#[derive(Debug, Clone, Copy)]
enum Command {
    Join(ParticipantId),
    Leave(ParticipantId),
    Mute(ParticipantId, bool),
    Volume(ParticipantId, f32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    /// Joined, waiting for the next tick.
    Pending,
    Active,
    /// Leave queued.
    Leaving,
}

struct Slot {
    generation: u32,
    state: SlotState,
    participant: Option<Box<Participant>>,
}

/// The conference mixer. See the [module docs](self).
pub struct AudioMixer {
    config: MixerConfig,
    frame: usize,
    registry: CodecRegistry,
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Slots mixed at the tick, in join order.
    active: Vec<usize>,
    commands: Vec<Command>,
    /// Participants that left at a tick, dropped at the next control call (not on the tick).
    /// Boxes, so that moving one here on the tick copies a pointer, not the participant.
    #[allow(clippy::vec_box)]
    retired: Vec<Box<Participant>>,
    total: Vec<i32>,
    all: Vec<i16>,
    all_limiter: Limiter,
    speaker: SpeakerTracker,
    events: VecDeque<MixerEvent>,
    stats: MixerStats,
    decode_errors_gone: u64,
}

impl fmt::Debug for AudioMixer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioMixer")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl AudioMixer {
    /// A mixer with the built-in codecs for codec participants.
    pub fn new(config: MixerConfig) -> Result<Self, MixerError> {
        Self::with_registry(config, CodecRegistry::with_builtin())
    }

    /// A mixer whose codec participants are made from `registry`.
    pub fn with_registry(config: MixerConfig, registry: CodecRegistry) -> Result<Self, MixerError> {
        let hz = config.sample_rate.hz();
        if ![8000, 16000, 32000, 48000].contains(&hz) {
            return Err(MixerError::InvalidConfig(format!(
                "the mixer runs at 8, 16, 32 or 48 kHz, not {hz} Hz"
            )));
        }
        if config.tick_ms != 10 && config.tick_ms != 20 {
            return Err(MixerError::InvalidConfig(format!(
                "the tick is 10 or 20 ms, not {}",
                config.tick_ms
            )));
        }
        if config.max_participants == 0 || config.max_participants > MAX_PARTICIPANTS {
            return Err(MixerError::InvalidConfig(format!(
                "max_participants must be 1..={MAX_PARTICIPANTS}"
            )));
        }
        let n = config.max_participants;
        let frame = config.sample_rate.samples_in_ms(config.tick_ms);
        Ok(Self {
            config,
            frame,
            registry,
            slots: (0..n)
                .map(|_| Slot {
                    generation: 0,
                    state: SlotState::Free,
                    participant: None,
                })
                .collect(),
            free: (0..n).rev().collect(),
            active: Vec::with_capacity(n),
            // Every participant can have a few commands in flight.
            commands: Vec::with_capacity(4 * n + 16),
            retired: Vec::with_capacity(n),
            total: vec![0; frame],
            all: vec![0; frame],
            all_limiter: Limiter::new(hz, frame),
            speaker: SpeakerTracker::default(),
            events: VecDeque::with_capacity(EVENT_CAPACITY),
            stats: MixerStats::default(),
            decode_errors_gone: 0,
        })
    }

    /// The configuration.
    pub fn config(&self) -> MixerConfig {
        self.config
    }

    /// Samples per tick at the internal rate.
    pub fn frame_samples(&self) -> usize {
        self.frame
    }

    fn queue(&mut self, c: Command) -> Result<(), MixerError> {
        if self.commands.len() == self.commands.capacity() {
            return Err(MixerError::QueueFull);
        }
        self.commands.push(c);
        Ok(())
    }

    fn slot_of(&self, id: ParticipantId) -> Result<usize, MixerError> {
        let s = id.slot();
        match self.slots.get(s) {
            Some(slot)
                if slot.generation == id.generation()
                    && slot.state != SlotState::Free
                    && slot.participant.is_some() =>
            {
                Ok(s)
            }
            _ => Err(MixerError::UnknownParticipant(id)),
        }
    }

    fn participant(&self, id: ParticipantId) -> Result<&Participant, MixerError> {
        let s = self.slot_of(id)?;
        self.slots[s]
            .participant
            .as_deref()
            .ok_or(MixerError::UnknownParticipant(id))
    }

    fn participant_mut(&mut self, id: ParticipantId) -> Result<&mut Participant, MixerError> {
        let s = self.slot_of(id)?;
        self.slots[s]
            .participant
            .as_deref_mut()
            .ok_or(MixerError::UnknownParticipant(id))
    }

    /// Adds a participant at the next tick. Everything it needs is allocated now; its input
    /// may be pushed before that tick.
    pub fn join(&mut self, config: ParticipantConfig) -> Result<ParticipantId, MixerError> {
        self.retired.clear();
        if !(0.0..=8.0).contains(&config.volume) {
            return Err(MixerError::InvalidConfig(format!(
                "volume {} is outside 0..=8",
                config.volume
            )));
        }
        if config.input_delay > 10 * self.config.sample_rate.hz() as usize {
            return Err(MixerError::InvalidConfig(
                "input delay is more than 10 s".into(),
            ));
        }
        if self.commands.len() == self.commands.capacity() {
            return Err(MixerError::QueueFull);
        }
        let slot = *self.free.last().ok_or(MixerError::Full)?;
        let generation = self.slots[slot].generation.wrapping_add(1);
        let id = ParticipantId::new(slot, generation);
        let p = Participant::new(
            id,
            &config,
            self.config.sample_rate.hz(),
            self.config.tick_ms,
            self.config.vad,
            &self.registry,
        )?;
        self.free.pop();
        let s = &mut self.slots[slot];
        s.generation = generation;
        s.state = SlotState::Pending;
        s.participant = Some(Box::new(p));
        self.queue(Command::Join(id))?;
        Ok(id)
    }

    /// Removes a participant at the next tick (its output of that tick is not made).
    pub fn leave(&mut self, id: ParticipantId) -> Result<(), MixerError> {
        self.retired.clear();
        let s = self.slot_of(id)?;
        if self.slots[s].state == SlotState::Leaving {
            return Ok(());
        }
        self.queue(Command::Leave(id))?;
        self.slots[s].state = SlotState::Leaving;
        Ok(())
    }

    /// Mutes a participant (others stop hearing it) from the next tick.
    pub fn mute(&mut self, id: ParticipantId) -> Result<(), MixerError> {
        self.slot_of(id)?;
        self.queue(Command::Mute(id, true))
    }

    /// Unmutes a participant from the next tick.
    pub fn unmute(&mut self, id: ParticipantId) -> Result<(), MixerError> {
        self.slot_of(id)?;
        self.queue(Command::Mute(id, false))
    }

    /// Sets the gain of what a participant contributes (0..=8) from the next tick.
    pub fn set_volume(&mut self, id: ParticipantId, volume: f32) -> Result<(), MixerError> {
        if !(0.0..=8.0).contains(&volume) {
            return Err(MixerError::InvalidConfig(format!(
                "volume {volume} is outside 0..=8"
            )));
        }
        self.slot_of(id)?;
        self.queue(Command::Volume(id, volume))
    }

    /// One tick of a participant's PCM at its input rate.
    pub fn push_pcm(&mut self, id: ParticipantId, pcm: &[i16]) -> Result<(), MixerError> {
        self.participant_mut(id)?.push_pcm(pcm)
    }

    /// One tick's packet of a codec participant (a missing packet is concealed).
    pub fn push_packet(&mut self, id: ParticipantId, payload: &[u8]) -> Result<(), MixerError> {
        self.participant_mut(id)?.push_packet(payload)
    }

    /// The participant's output of the last tick (everyone else), at its output rate. Silence
    /// before its first tick.
    pub fn output(&self, id: ParticipantId) -> Result<&[i16], MixerError> {
        Ok(self.participant(id)?.output())
    }

    /// Copies [`output`](Self::output) into `out`, returning the number of samples.
    pub fn pull_pcm(&self, id: ParticipantId, out: &mut [i16]) -> Result<usize, MixerError> {
        let o = self.participant(id)?.output();
        let got = out.len();
        let dst = out.get_mut(..o.len()).ok_or(MixerError::BadLength {
            got,
            expected: o.len(),
        })?;
        dst.copy_from_slice(o);
        Ok(o.len())
    }

    /// The encoded output of the last tick of a codec participant.
    pub fn packet(&self, id: ParticipantId) -> Result<&[u8], MixerError> {
        let p = self.participant(id)?;
        if !p.is_codec() {
            return Err(MixerError::NotCodec);
        }
        Ok(p.packet())
    }

    /// Everyone mixed (through its own limiter) at the internal rate: for recording.
    pub fn mix_all(&self) -> &[i16] {
        &self.all
    }

    /// The current active speaker.
    pub fn active_speaker(&self) -> Option<ParticipantId> {
        self.speaker.current()
    }

    /// Whether the participant's VAD judged the last tick speech.
    pub fn is_speaking(&self, id: ParticipantId) -> Result<bool, MixerError> {
        Ok(self.participant(id)?.speech)
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<MixerEvent> {
        self.events.pop_front()
    }

    /// Counters.
    pub fn stats(&self) -> MixerStats {
        let mut s = self.stats;
        s.participants = self.active.len();
        s.decode_errors = self.decode_errors_gone
            + self
                .active
                .iter()
                .filter_map(|&i| self.slots[i].participant.as_ref())
                .map(|p| p.decode_errors)
                .sum::<u64>();
        s
    }

    fn event(&mut self, e: MixerEvent) {
        if self.events.len() == EVENT_CAPACITY {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    fn apply_commands(&mut self) {
        for i in 0..self.commands.len() {
            let c = self.commands[i];
            match c {
                Command::Join(id) => {
                    let s = id.slot();
                    if self.slots[s].generation == id.generation()
                        && self.slots[s].state == SlotState::Pending
                    {
                        self.slots[s].state = SlotState::Active;
                        self.active.push(s);
                        self.event(MixerEvent::Joined(id));
                    } else if self.slots[s].generation == id.generation()
                        && self.slots[s].state == SlotState::Leaving
                    {
                        // Joined and left before a tick: it never mixes.
                        self.active.push(s);
                        self.event(MixerEvent::Joined(id));
                    }
                }
                Command::Leave(id) => {
                    let s = id.slot();
                    if self.slots[s].generation != id.generation() {
                        continue;
                    }
                    if let Some(pos) = self.active.iter().position(|&a| a == s) {
                        self.active.remove(pos);
                    }
                    let slot = &mut self.slots[s];
                    slot.state = SlotState::Free;
                    if let Some(p) = slot.participant.take() {
                        self.decode_errors_gone += p.decode_errors;
                        // Dropped at the next control call, not on the media path.
                        if self.retired.len() < self.retired.capacity() {
                            self.retired.push(p);
                        }
                    }
                    self.free.push(s);
                    self.event(MixerEvent::Left(id));
                    if self.speaker.remove(id) {
                        self.event(MixerEvent::ActiveSpeaker(None));
                    }
                }
                Command::Mute(id, m) => {
                    if let Ok(p) = self.participant_mut(id) {
                        p.muted = m;
                    }
                }
                Command::Volume(id, v) => {
                    if let Ok(p) = self.participant_mut(id) {
                        p.volume = v;
                    }
                }
            }
        }
        self.commands.clear();
    }

    /// Runs one tick: applies the queued commands, mixes, and makes every output. Never
    /// allocates.
    pub fn tick(&mut self) {
        self.apply_commands();
        self.total.fill(0);
        let mut loudest: Option<(ParticipantId, f32)> = None;
        let current = self.speaker.current();
        let mut current_speaking = false;
        for &s in &self.active {
            let Some(p) = self.slots[s].participant.as_deref_mut() else {
                continue;
            };
            p.front();
            if !p.silent {
                for (t, &c) in self.total.iter_mut().zip(&p.contrib) {
                    *t += i32::from(c);
                }
            }
            if p.speech {
                if Some(p.id) == current {
                    current_speaking = true;
                }
                if loudest.is_none_or(|(_, l)| p.level > l) {
                    loudest = Some((p.id, p.level));
                }
            }
        }
        if self.config.vad {
            let tick_ms = self.config.tick_ms;
            if let Some(id) =
                self.speaker
                    .update(loudest.map(|(id, _)| id), current_speaking, tick_ms)
            {
                self.event(MixerEvent::ActiveSpeaker(Some(id)));
            }
        }
        let mut limited = 0;
        for &s in &self.active {
            if let Some(p) = self.slots[s].participant.as_deref_mut() {
                limited += u64::from(p.back(&self.total));
            }
        }
        limited += u64::from(self.all_limiter.process(&self.total, &mut self.all));
        self.stats.limited_frames += limited;
        self.stats.ticks += 1;
    }
}

#[cfg(test)]
#[path = "mixer_tests.rs"]
mod tests;
