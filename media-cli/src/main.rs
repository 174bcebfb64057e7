//! `mediacore`: the command-line way into media-core.

mod analyze;
mod call;
mod coding;
mod conference;
mod containers;
mod input;
mod process;
mod rtp_io;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// media-core's command line: codecs, transcoding and (in later releases) calls and conferences.
#[derive(Parser, Debug)]
#[command(name = "mediacore", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Codec options shared by encode, decode and transcode.
#[derive(clap::Args, Debug, Clone)]
struct CodecArgs {
    /// Codec name, case-insensitive (see `mediacore codecs`).
    #[arg(long)]
    codec: String,
    /// Bitrate in bit/s (G.722: 64000, 56000 or 48000 picks the decoder mode; Opus: target).
    #[arg(long)]
    bitrate: Option<u32>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the codecs this build has.
    Codecs {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Encode a WAV file to the codec's raw stream (or its container: Ogg for Opus, RFC 3952's
    /// storage format for iLBC).
    Encode {
        #[command(flatten)]
        codec: CodecArgs,
        /// Packet duration in ms.
        #[arg(long)]
        ptime: Option<u16>,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
        /// Input WAV, or `builtin:speech` for the built-in test signal.
        input: String,
        /// Output file.
        output: PathBuf,
    },
    /// Decode a codec stream to WAV.
    Decode {
        #[command(flatten)]
        codec: CodecArgs,
        /// Output rate in Hz (for multi-rate codecs also the codec's rate).
        #[arg(long)]
        rate: Option<u32>,
        /// Drop this percentage of the stream's packets at random before decoding (FEC and
        /// concealment then cover them), to judge a stream made elsewhere under loss.
        #[arg(long, value_parser = parse_percent)]
        loss: Option<f64>,
        /// Seed for --loss.
        #[arg(long, default_value_t = 1, requires = "loss")]
        seed: u64,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
        /// Input stream.
        input: PathBuf,
        /// Output WAV.
        output: PathBuf,
    },
    /// What is in a recording: P.56 active speech level, RMS, peak, clipping, noise floor,
    /// speech ratio (energy-based, not a VAD) and, with --dtmf, the DTMF digits. dBov
    /// values are relative to full scale and floored at -127 (silence).
    Analyze {
        /// Also find DTMF digits (ITU-T Q.24 detector) with their start and duration.
        #[arg(long)]
        dtmf: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Input WAV, or `builtin:speech` for the built-in test signal.
        input: String,
    },
    /// E-model (ITU-T G.107) rating R and MOS for a connection.
    Mos {
        /// One-way delay in ms (T = Ta = delay, Tr = 2T).
        #[arg(long, default_value_t = 0.0)]
        delay: f64,
        /// Packet loss in percent (jitter-buffer discards count as loss).
        #[arg(long, value_parser = parse_percent, default_value_t = 0.0)]
        loss: f64,
        /// Burst ratio BurstR (1 = random loss).
        #[arg(long, default_value_t = 1.0)]
        burst: f64,
        /// Codec, for its G.113 Ie and Bpl.
        #[arg(long, default_value = "pcmu")]
        codec: String,
        /// Print `{"r":..,"mos":..}`.
        #[arg(long)]
        json: bool,
    },
    /// Streams a WAV file as real-time RTP (20 ms packets, with RTCP) to the peer an SDP file
    /// describes (first supported codec; `RTP/SAVP` + `a=crypto`: SRTP).
    Send {
        /// The peer's SDP (its c= address, m= port and payload types).
        #[arg(long)]
        sdp: PathBuf,
        /// Input WAV, or `builtin:speech`.
        #[arg(long)]
        input: String,
        /// Seconds to send (default: the input's length).
        #[arg(long)]
        duration: Option<f64>,
        /// Local UDP port (0: any).
        #[arg(long, default_value_t = 0)]
        local_port: u16,
        /// Write our SDP answer here before sending (with `a=ssrc:` of our stream, and with
        /// `RTP/SAVP` our `a=crypto` key, for a peer configured by hand).
        #[arg(long)]
        answer: Option<PathBuf>,
        /// Seconds to wait after writing the answer before the first packet.
        #[arg(long, default_value_t = 0.0)]
        delay: f64,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Receives RTP on the port an SDP file describes and plays it out (jitter buffer,
    /// concealment, Opus FEC) into a WAV file at the codec's rate.
    Receive {
        /// Our SDP: the m= port we bind on 127.0.0.1, payload types, `a=crypto` for SRTP.
        #[arg(long)]
        sdp: PathBuf,
        /// Output WAV.
        #[arg(long)]
        output: PathBuf,
        /// Seconds to receive.
        #[arg(long)]
        duration: f64,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
    },
    /// A call: two media sessions exchange RTP over UDP loopback (127.0.0.1) through a
    /// seeded network emulator; prints the receiver's statistics and MOS.
    Call {
        /// Codec (see `mediacore codecs`).
        #[arg(long, default_value = "pcmu")]
        codec: String,
        /// Seconds to run (default: the input's length).
        #[arg(long)]
        duration: Option<f64>,
        /// Input WAV, or `builtin:speech` for the built-in test signal.
        #[arg(long, default_value = "builtin:speech")]
        input: String,
        /// SRTP with SDES keys from the OS random source.
        #[arg(long)]
        srtp: bool,
        /// Packet loss in percent (both directions).
        #[arg(long, value_parser = parse_percent, default_value_t = 0.0)]
        loss: f64,
        /// Mean loss burst length in packets (Gilbert-Elliott); default: independent losses.
        #[arg(long)]
        burst: Option<f64>,
        /// Jitter: each packet is delayed by 0..=MS extra milliseconds.
        #[arg(long, default_value_t = 0)]
        jitter: u64,
        /// Seed of the network emulator: the same seed drops the same packets.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Run as fast as possible on a virtual clock (default: real-time pacing).
        #[arg(long, conflicts_with = "realtime")]
        fast: bool,
        /// Real-time pacing (the default).
        #[arg(long)]
        realtime: bool,
        /// Write what the receiver plays out (decoded and concealed) to this WAV.
        #[arg(long)]
        record: Option<String>,
        /// What --record holds: `heard` (what the receiver plays out), `mix` (the receiver's
        /// side, sent + heard, mono) or `split` (stereo: left sent, right heard).
        #[arg(long, default_value = "heard", requires = "record")]
        record_mode: String,
        /// Print one JSON object with the figures.
        #[arg(long)]
        json: bool,
    },
    /// Run a capture recording through the processing chain (high-pass, echo cancellation
    /// against what the loudspeaker played, noise suppression, gain control, voice activity
    /// detection).
    Process {
        /// What the loudspeaker played while IN was captured, aligned with IN at the start.
        #[arg(long, value_name = "FAR.wav")]
        far: Option<String>,
        /// Cancel the echo of FAR in IN (needs --far).
        #[arg(long)]
        aec: bool,
        /// Noise suppression.
        #[arg(long)]
        ns: bool,
        /// Automatic gain control (active speech level -18 dBov, limiter at -1 dBFS).
        #[arg(long)]
        agc: bool,
        /// Run voice activity detection and write its decisions (one per 10 ms) as JSON here.
        #[arg(long, value_name = "FILE.json")]
        vad_out: Option<PathBuf>,
        /// Leave the 90 Hz high-pass filter off.
        #[arg(long)]
        no_highpass: bool,
        /// Processing and output rate in Hz (inputs are resampled to it).
        #[arg(long, default_value_t = 16000)]
        rate: u32,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
        /// Captured WAV (or `builtin:speech`).
        input: String,
        /// Output WAV.
        output: PathBuf,
    },
    /// Mix WAV files through the conference mixer as if each were a participant: writes
    /// DIR/mix-for-K.wav (everyone but input K, K from 1) and DIR/mix-all.wav at the mix rate.
    Conference {
        /// Output directory (created if missing).
        #[arg(long, value_name = "DIR")]
        out_dir: PathBuf,
        /// Mix rate in Hz: 8000, 16000, 32000 or 48000 (default: the highest input rate,
        /// rounded up to one of those).
        #[arg(long)]
        rate: Option<u32>,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
        /// Input WAVs (any of 8, 16, 32, 44.1, 48 kHz) or `builtin:speech`; at least two.
        #[arg(required = true, num_args = 2..)]
        inputs: Vec<String>,
    },
    /// Encode, drop packets, decode with concealment: what a listener would hear.
    Transcode {
        #[command(flatten)]
        codec: CodecArgs,
        /// Output rate in Hz (for multi-rate codecs also the codec's rate).
        #[arg(long)]
        rate: Option<u32>,
        /// Packet duration in ms.
        #[arg(long)]
        ptime: Option<u16>,
        /// Random packet loss in percent.
        #[arg(long, value_parser = parse_percent, conflicts_with = "loss_pattern")]
        loss: Option<f64>,
        /// Seed for --loss: the same seed drops the same packets.
        #[arg(long, default_value_t = 1, requires = "loss")]
        seed: u64,
        /// ITU-T G.192 frame-erasure file (0x6B21 good, 0x6B20 erased; one word per packet,
        /// applied cyclically).
        #[arg(long)]
        loss_pattern: Option<PathBuf>,
        /// Print a JSON report on stdout.
        #[arg(long)]
        json: bool,
        /// Input WAV, or `builtin:speech` for the built-in test signal.
        input: String,
        /// Output WAV.
        output: PathBuf,
    },
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 100"))
    }
}

fn mos(delay: f64, loss: f64, burst: f64, codec: &str, json: bool) -> Result<(), String> {
    use media_core::quality::{rate, CodecImpairment, EModelParams};
    if !(0.0..=10_000.0).contains(&delay) {
        return Err(format!("delay {delay} ms is outside 0..=10000"));
    }
    if !(burst >= 1.0 && burst.is_finite()) {
        return Err(format!("burst ratio {burst} must be >= 1"));
    }
    let imp = CodecImpairment::for_codec(codec).ok_or_else(|| {
        format!("no ITU-T G.113 impairment values for '{codec}' (known: pcmu, pcma, l16, g711-noplc, g729a, g723.1)")
    })?;
    let r = rate(&EModelParams::voip(imp, delay, loss, burst));
    if json {
        println!(
            "{}",
            serde_json::json!({"r": (r.r * 100.0).round() / 100.0, "mos": (r.mos * 100.0).round() / 100.0, "ie_eff": r.ie_eff, "id": r.id, "is": r.is, "ro": r.ro})
        );
    } else {
        println!(
            "R = {:.1}, MOS = {:.2} (Ro {:.1}, Is {:.1}, Id {:.1}, Ie,eff {:.1})",
            r.r, r.mos, r.ro, r.is, r.id, r.ie_eff
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One clear line, not clap's usage block.
            let text = e.render().to_string();
            let line = text.lines().next().unwrap_or("bad arguments");
            eprintln!("mediacore: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Codecs { json } => coding::codecs(json),
        Command::Send {
            sdp,
            input,
            duration,
            local_port,
            answer,
            delay,
            json,
        } => rtp_io::send(
            &sdp,
            &input,
            rtp_io::SendOptions {
                duration,
                local_port,
                answer,
                delay,
                json,
            },
        ),
        Command::Receive {
            sdp,
            output,
            duration,
            json,
        } => rtp_io::receive(&sdp, &output, duration, json),
        Command::Call {
            codec,
            duration,
            input,
            srtp,
            loss,
            burst,
            jitter,
            seed,
            fast,
            realtime: _,
            record,
            record_mode,
            json,
        } => call::call(&call::CallOptions {
            codec,
            duration,
            input,
            srtp,
            loss,
            burst,
            jitter_ms: jitter,
            seed,
            fast,
            record,
            record_mode,
            json,
        }),
        Command::Conference {
            out_dir,
            rate,
            json,
            inputs,
        } => conference::conference(&out_dir, &inputs, rate, json),
        Command::Analyze { dtmf, json, input } => analyze::analyze(&input, dtmf, json),
        Command::Mos {
            delay,
            loss,
            burst,
            codec,
            json,
        } => mos(delay, loss, burst, &codec, json),
        Command::Encode {
            codec,
            ptime,
            json,
            input,
            output,
        } => coding::encode(&codec, ptime, json, &input, &output),
        Command::Decode {
            codec,
            rate,
            loss,
            seed,
            json,
            input,
            output,
        } => {
            let loss = match loss {
                Some(percent) => media_core::loss::LossModel::Random { percent, seed },
                None => media_core::loss::LossModel::None,
            };
            coding::decode(&codec, rate, loss, json, &input, &output)
        }
        Command::Process {
            far,
            aec,
            ns,
            agc,
            vad_out,
            no_highpass,
            rate,
            json,
            input,
            output,
        } => process::process(&process::ProcessArgs {
            input: &input,
            far: far.as_deref(),
            output: &output,
            aec,
            ns,
            agc,
            vad_out: vad_out.as_deref(),
            no_highpass,
            rate,
            json,
        }),
        Command::Transcode {
            codec,
            rate,
            ptime,
            loss,
            seed,
            loss_pattern,
            json,
            input,
            output,
        } => coding::transcode(
            &codec,
            rate,
            ptime,
            loss,
            seed,
            loss_pattern.as_deref(),
            json,
            &input,
            &output,
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mediacore: {e}");
            ExitCode::FAILURE
        }
    }
}
