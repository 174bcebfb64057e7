//! Answering an offer, and reading the answer to our offer.

use super::*;

impl<'a> Negotiator<'a> {
    /// Answers a remote offer (RFC 3264 section 6). On the first acceptable audio m-line we pick
    /// the first codec in the offer's order that we have, keep the offer's payload type numbers,
    /// add telephone-event if offered at the codec's clock rate, reverse the direction
    /// (sendonly becomes recvonly) within what we want, mirror rtcp-mux and, for SRTP, answer
    /// the first offered `a=crypto` whose suite we accept with a key from `random`. Every other
    /// m-line gets port 0.
    ///
    /// `a=crypto` lines with session parameters (`UNENCRYPTED_SRTP`, `KDR=`, ...) are passed
    /// over, as we cannot yet honour them; `a=crypto` on a plain RTP/AVP m-line ("best effort"
    /// SRTP) is ignored and the stream stays plain RTP. `random` is called only for SRTP.
    ///
    /// Returns the negotiated stream and the answer SDP; [`SdpError::NoAcceptableMedia`] (with
    /// an all-rejecting answer) when no m-line is acceptable, or the error that makes the offer
    /// unreadable.
    pub fn answer(
        &self,
        offer: &[u8],
        random: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(NegotiatedMedia, String), SdpError> {
        let remote = parse_remote(offer)?;
        let mut chosen: Option<NegotiatedMedia> = None;
        let mut rejected = Vec::new();
        let mut medias = Vec::with_capacity(remote.media.len());
        for section in &remote.media {
            let outcome = match &section.audio {
                Err(e) => Err(e.clone()),
                Ok(_) if chosen.is_some() => Err(SdpError::ExtraAudioStream { line: section.line }),
                Ok(audio) => self.answer_audio(section, audio, random),
            };
            match outcome {
                Ok((negotiated, media)) => {
                    medias.push(media);
                    chosen = Some(negotiated);
                }
                Err(reason) => {
                    medias.push(rejected_media(section));
                    rejected.push(Rejection {
                        index: section.index,
                        media: section.media.clone(),
                        reason,
                    });
                }
            }
        }
        let answer = self.session(medias);
        match chosen {
            Some(mut negotiated) => {
                negotiated.rejected = rejected;
                Ok((negotiated, answer))
            }
            None => Err(SdpError::NoAcceptableMedia { rejected, answer }),
        }
    }

    fn answer_audio(
        &self,
        section: &MediaSection,
        remote: &RemoteMedia,
        random: &mut dyn FnMut(&mut [u8]),
    ) -> Result<(NegotiatedMedia, sdpt::Media), SdpError> {
        let line = section.line;
        match (remote.transport.is_secure(), self.config.srtp) {
            (true, SrtpPolicy::Disabled) => return Err(SdpError::SrtpDisabled { line }),
            (false, SrtpPolicy::Required) => return Err(SdpError::SrtpRequired { line }),
            _ => {}
        }
        let chosen = remote
            .formats
            .iter()
            .find_map(|f| self.resolve(f))
            .ok_or_else(|| SdpError::NoCommonCodec {
                line,
                offered: remote.formats.iter().map(RemoteFormat::describe).collect(),
            })?;
        let crypto = if remote.transport.is_secure() {
            let theirs = remote
                .crypto
                .iter()
                .filter_map(|c| c.parsed.as_ref().ok())
                .find(|c| self.config.srtp_suites.contains(&c.suite) && c.session_params.is_empty())
                .ok_or(SdpError::NoAcceptableCrypto { line })?;
            let ours = SdesCrypto::generate(theirs.tag, theirs.suite, random);
            Some(NegotiatedCrypto {
                local: ours,
                remote: theirs.clone(),
            })
        } else {
            None
        };

        let pt = chosen.format.payload_type;
        let ptime = self.choose_ptime(chosen.codec, remote);
        let mut params = chosen.params;
        params.ptime_ms = ptime;
        params.fmtp = chosen.format.fmtp.clone();

        let events = if self.config.telephone_event {
            remote
                .telephone_events
                .iter()
                .find(|t| t.clock_rate == chosen.rtpmap.clock_rate)
                .map(|t| (t, t.events.intersection(&EventSet::DTMF)))
                .filter(|(_, e)| !e.is_empty())
                .map(|(t, events)| NegotiatedEvents {
                    send_payload_type: t.payload_type,
                    receive_payload_type: t.payload_type,
                    clock_rate: t.clock_rate,
                    events,
                })
        } else {
            None
        };

        let mut direction = self.config.direction.intersect(remote.direction.reversed());
        if remote.address.is_unspecified() {
            // RFC 3264 section 8.4: c=0.0.0.0 means send nothing.
            direction = direction.intersect(Direction::RecvOnly);
        }
        let rtcp_mux = self.config.rtcp_mux && remote.rtcp_mux;

        let mut pts = vec![pt.0];
        if let Some(e) = &events {
            pts.push(e.receive_payload_type.0);
        }
        let mut m = self.audio_media(remote.transport, &pts);
        m.add_attribute_with_value("rtpmap", format!("{} {}", pt.0, chosen.rtpmap));
        if let Some(f) = self.our_fmtp(chosen.codec) {
            m.add_attribute_with_value("fmtp", format!("{} {f}", pt.0));
        }
        if let Some(e) = &events {
            let ept = e.receive_payload_type.0;
            m.add_attribute_with_value("rtpmap", format!("{ept} telephone-event/{}", e.clock_rate));
            m.add_attribute_with_value("fmtp", format!("{ept} {}", e.events));
        }
        self.common_attributes(&mut m, ptime, direction, rtcp_mux);
        if let Some(c) = &crypto {
            m.add_attribute_with_value("crypto", c.local.to_attribute_value());
        }

        let mut receive = BTreeMap::new();
        receive.insert(
            pt,
            ReceiveFormat::Codec {
                codec: chosen.codec,
                params: params.clone(),
            },
        );
        if let Some(e) = &events {
            receive.insert(
                e.receive_payload_type,
                ReceiveFormat::TelephoneEvent {
                    clock_rate: e.clock_rate,
                },
            );
        }
        let negotiated = NegotiatedMedia {
            media_index: section.index,
            remote: remote.rtp_addr(),
            remote_rtcp: remote.rtcp_addr(rtcp_mux),
            transport: remote.transport,
            codec: chosen.codec,
            params,
            payload_type: pt,
            max_ptime_ms: remote.maxptime,
            telephone_event: events,
            direction,
            rtcp_mux,
            crypto,
            receive,
            rejected: Vec::new(),
        };
        Ok((negotiated, m))
    }

    /// Reads the answer to an offer we made (`our_offer` is the SDP we sent, as from
    /// [`Self::offer`]) and checks that it fits it (RFC 3264 section 6): same m-lines, same
    /// transport, only formats we offered, a direction our offer allows, rtcp-mux only if
    /// offered, and for SRTP exactly one `a=crypto` matching one of ours by tag and suite.
    ///
    /// We send with the first codec of the answer; we receive what the answer lists, with our
    /// offer's payload type numbers.
    pub fn process_answer(
        &self,
        our_offer: &[u8],
        answer: &[u8],
    ) -> Result<NegotiatedMedia, SdpError> {
        let ours = parse_remote(our_offer).map_err(|e| SdpError::InvalidConfig {
            reason: format!("our own offer does not parse: {e}"),
        })?;
        let theirs = parse_remote(answer)?;
        let mismatch = |line: usize, reason: String| SdpError::AnswerMismatch { line, reason };
        if ours.media.len() != theirs.media.len() {
            return Err(mismatch(
                0,
                format!(
                    "{} m-lines in the answer, {} in the offer",
                    theirs.media.len(),
                    ours.media.len()
                ),
            ));
        }
        let mut rejected = Vec::new();
        let mut negotiated: Option<NegotiatedMedia> = None;
        for (o, a) in ours.media.iter().zip(&theirs.media) {
            if !o.media.eq_ignore_ascii_case(&a.media) {
                return Err(mismatch(
                    a.line,
                    format!("m-line {} is '{}', offered '{}'", a.index, a.media, o.media),
                ));
            }
            let reject = |reason| Rejection {
                index: a.index,
                media: a.media.clone(),
                reason,
            };
            match (&o.audio, &a.audio) {
                (Ok(offered), Ok(answered)) if negotiated.is_none() => {
                    negotiated = Some(self.accept_answer(a, offered, answered)?);
                }
                (Ok(_), Ok(_)) => {
                    rejected.push(reject(SdpError::ExtraAudioStream { line: a.line }))
                }
                // Port 0: the answerer rejected the stream.
                (Ok(_), Err(e @ SdpError::MediaDisabled { .. })) => {
                    rejected.push(reject(e.clone()))
                }
                // Accepted, but we cannot use what the answer says.
                (Ok(_), Err(e)) => return Err(e.clone()),
                (Err(_), _) if o.port == 0 && a.port != 0 => {
                    return Err(mismatch(
                        a.line,
                        format!("m-line {} was offered with port 0 but is accepted", a.index),
                    ));
                }
                (Err(e), _) => rejected.push(reject(e.clone())),
            }
        }
        match negotiated {
            Some(mut n) => {
                n.rejected = rejected;
                Ok(n)
            }
            None => Err(SdpError::NoAcceptableMedia {
                rejected,
                answer: String::new(),
            }),
        }
    }

    fn accept_answer(
        &self,
        section: &MediaSection,
        offered: &RemoteMedia,
        answered: &RemoteMedia,
    ) -> Result<NegotiatedMedia, SdpError> {
        let line = section.line;
        let mismatch = |reason: String| SdpError::AnswerMismatch { line, reason };
        if answered.transport != offered.transport {
            return Err(mismatch(format!(
                "transport {} does not match the offer's {}",
                answered.transport, offered.transport
            )));
        }
        // Every answered format must be one we offered; map it to our payload type.
        let mut send: Option<(Resolved<'_>, PayloadType)> = None;
        let mut receive = BTreeMap::new();
        for f in &answered.formats {
            let map = f.rtpmap.as_ref().ok_or_else(|| {
                mismatch(format!(
                    "payload type {} has no rtpmap and is not static",
                    f.payload_type.0
                ))
            })?;
            let ours = offered
                .formats
                .iter()
                .find(|o| o.rtpmap.as_ref().is_some_and(|m| m.same_format(map)))
                .ok_or_else(|| mismatch(format!("{} was not in the offer", f.describe())))?;
            if map.is_telephone_event() {
                continue;
            }
            if let Some(r) = self.resolve(f) {
                let our_pt = ours.payload_type;
                receive.insert(
                    our_pt,
                    ReceiveFormat::Codec {
                        codec: r.codec,
                        params: {
                            let mut p = r.params.clone();
                            p.fmtp = f.fmtp.clone();
                            p
                        },
                    },
                );
                if send.is_none() {
                    send = Some((r, our_pt));
                }
            }
        }
        let (chosen, _) = send.ok_or_else(|| SdpError::NoCommonCodec {
            line,
            offered: answered
                .formats
                .iter()
                .map(RemoteFormat::describe)
                .collect(),
        })?;
        let ptime = self.choose_ptime(chosen.codec, answered);
        let mut params = chosen.params.clone();
        params.ptime_ms = ptime;
        params.fmtp = chosen.format.fmtp.clone();
        for r in receive.values_mut() {
            if let ReceiveFormat::Codec { params: p, .. } = r {
                p.ptime_ms = ptime;
            }
        }

        let clock = chosen.rtpmap.clock_rate;
        let events = if self.config.telephone_event {
            let theirs = answered
                .telephone_events
                .iter()
                .find(|t| t.clock_rate == clock);
            let ours = offered
                .telephone_events
                .iter()
                .find(|t| t.clock_rate == clock);
            match (theirs, ours) {
                (Some(t), Some(o)) => {
                    let events = t.events.intersection(&o.events);
                    (!events.is_empty()).then_some(NegotiatedEvents {
                        send_payload_type: t.payload_type,
                        receive_payload_type: o.payload_type,
                        clock_rate: clock,
                        events,
                    })
                }
                _ => None,
            }
        } else {
            None
        };
        if let Some(e) = &events {
            receive.insert(
                e.receive_payload_type,
                ReceiveFormat::TelephoneEvent { clock_rate: clock },
            );
        }

        if !answered.direction.within(offered.direction.reversed()) {
            return Err(mismatch(format!(
                "answer is {} to an offer that is {}",
                answered.direction, offered.direction
            )));
        }
        let mut direction = offered.direction.intersect(answered.direction.reversed());
        if answered.address.is_unspecified() {
            direction = direction.intersect(Direction::RecvOnly);
        }
        if answered.rtcp_mux && !offered.rtcp_mux {
            return Err(mismatch(
                "rtcp-mux in the answer but not in the offer".into(),
            ));
        }
        let rtcp_mux = answered.rtcp_mux;

        let crypto = if answered.transport.is_secure() {
            let valid: Vec<&SdesCrypto> = answered
                .crypto
                .iter()
                .filter_map(|c| c.parsed.as_ref().ok())
                .collect();
            let [theirs] = valid.as_slice() else {
                return Err(answered
                    .crypto
                    .iter()
                    .find_map(|c| c.parsed.as_ref().err().cloned())
                    .filter(|_| valid.is_empty())
                    .unwrap_or_else(|| {
                        mismatch(format!(
                            "{} usable a=crypto lines in the answer; it must have exactly one",
                            valid.len()
                        ))
                    }));
            };
            let ours = offered
                .crypto
                .iter()
                .filter_map(|c| c.parsed.as_ref().ok())
                .find(|o| o.tag == theirs.tag && o.suite == theirs.suite)
                .ok_or_else(|| {
                    mismatch(format!(
                        "a=crypto tag {} {} was not offered",
                        theirs.tag, theirs.suite
                    ))
                })?;
            Some(NegotiatedCrypto {
                local: ours.clone(),
                remote: (*theirs).clone(),
            })
        } else {
            None
        };

        Ok(NegotiatedMedia {
            media_index: section.index,
            remote: answered.rtp_addr(),
            remote_rtcp: answered.rtcp_addr(rtcp_mux),
            transport: answered.transport,
            codec: chosen.codec,
            params,
            payload_type: chosen.format.payload_type,
            max_ptime_ms: answered.maxptime,
            telephone_event: events,
            direction,
            rtcp_mux,
            crypto,
            receive,
            rejected: Vec::new(),
        })
    }
}

/// An m-line answered with port 0: same media, protocol and formats (RFC 3264 section 6).
fn rejected_media(section: &MediaSection) -> sdpt::Media {
    let mut m = sdpt::Media::new(
        sdpt::MediaType::Audio,
        0,
        sdpt::TransportProto::RtpAvp,
        section.formats.join(" "),
    );
    m.media = section.media.clone();
    m.proto = section.proto.clone();
    m
}
