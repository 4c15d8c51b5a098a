#!/usr/bin/python3
"""A Plateau venue terminal that is not a browser (docs/integrating.md).

GStreamer's webrtcbin sends a solid colour (H.264) and a sine tone (Opus) and receives the
conference mix; libsoup's WebSocket client speaks Plateau signaling v1 (docs/signaling.md):

    hello -> registered -> join (or the server's invite) -> joined -> offer -> answer
    candidates both ways (trickle) ... leave -> left

Everything runs on one GLib main loop; GStreamer's threads hand their work to it with
GLib.idle_add. What the venue sees and hears is measured like the reference terminal does it
(docs/terminal.md, "The report"): the average colour at the centre of every tile of the latest
`layout`, and the Goertzel level of each probe frequency over the last 500 ms of audio.

    /usr/bin/python3 docs/examples/webrtc_venue.py --server ws://127.0.0.1:8080/ws \
        --venue minhe --token TOKEN --conference 80000001 --color '#ff00ff' --tone 660 \
        --expect datong=#ff0000 --expect-tone 440 --report minhe.json --seconds 30

Exit status: 0 the call ran and every --expect held at some moment; 1 failure (connection,
media); 2 usage; 3 the server refused (its error code is printed); 4 the call ran but an
expectation was never met.
"""

import argparse
import array
import json
import math
import os
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("Soup", "3.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Soup  # noqa: E402

HEARD_DBOV = -30.0  # a mixed tone arrives around -14 dBov
COLOUR_TOLERANCE = 60  # per channel, after two H.264 generations and colour conversion
AUDIO_WINDOW = 24000  # samples at 48 kHz: 500 ms


def log(event, **fields):
    fields.update(ts=round(time.time(), 3), event=event)
    print(json.dumps(fields, ensure_ascii=False), file=sys.stderr, flush=True)


def parse_colour(text):
    text = text.strip()
    if len(text) != 7 or text[0] != "#":
        raise ValueError("a colour is #rrggbb")
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


def hex_colour(rgb):
    return "#%02x%02x%02x" % tuple(max(0, min(255, int(round(c)))) for c in rgb)


def goertzel_dbov(samples, hz, rate=48000):
    """Level of `hz` in S16 samples, in dBov (a full-scale sine is 0)."""
    n = len(samples)
    if n == 0:
        return -127.0
    coeff = 2.0 * math.cos(2.0 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    amplitude = 2.0 * math.sqrt(max(power, 0.0)) / n / 32768.0
    return max(-127.0, 20.0 * math.log10(amplitude)) if amplitude > 0 else -127.0


class Venue:
    def __init__(self, args):
        self.args = args
        self.loop = GLib.MainLoop()
        self.ws = None
        self.pipe = None
        self.webrtc = None
        self.ice = None
        self.exit_code = 0
        self.state = "connecting"
        self.conference = None
        self.layout = ""
        self.tiles = []
        self.participants = []
        self.error = None
        self.offer_sent = False
        self.leaving = False
        self.started = time.monotonic()
        self.expect_met_at = None
        # Filled on GStreamer's streaming threads, read on the main loop.
        self.lock = threading.Lock()
        self.frame = None  # (width, height, stride, bytes) of the latest decoded picture
        self.frames_decoded = 0
        self.audio = array.array("h")
        self.audio_samples = 0

    # ------------------------------------------------------------------ signaling

    def run(self):
        session = Soup.Session()
        message = Soup.Message.new("GET", self.args.server)
        if message is None:
            print("webrtc_venue: bad --server URL %s" % self.args.server, file=sys.stderr)
            return 2
        session.websocket_connect_async(message, None, None, GLib.PRIORITY_DEFAULT, None,
                                        self.on_connected, None)
        for signo in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signo, self.on_signal)
        if self.args.seconds > 0:
            GLib.timeout_add(int(self.args.seconds * 1000), self.on_signal)
        if self.args.report:
            GLib.timeout_add(int(self.args.report_interval * 1000), self.on_report_timer)
        self.loop.run()
        self.stop_media()
        self.write_report(final=True)
        if self.exit_code == 0 and (self.args.expect or self.args.expect_tone) \
                and self.expect_met_at is None:
            self.exit_code = 4
        return self.exit_code

    def on_connected(self, session, result, _data):
        try:
            self.ws = session.websocket_connect_finish(result)
        except GLib.Error as e:
            self.fail(1, "connect_failed", "cannot open %s: %s" % (self.args.server, e.message))
            return
        self.ws.set_keepalive_interval(0)  # the protocol has its own ping/pong
        self.ws.connect("message", self.on_ws_message)
        self.ws.connect("closed", self.on_ws_closed)
        self.state = "registering"
        self.send({"type": "hello", "id": "hello", "venue": self.args.venue,
                   "token": self.args.token, "client": "webrtc_venue.py"})

    def send(self, message):
        if self.ws and self.ws.get_state() == Soup.WebsocketState.OPEN:
            self.ws.send_text(json.dumps(message))

    def on_ws_closed(self, _ws):
        if not self.leaving:
            self.fail(1, "connection_lost", "the signaling connection closed")
        else:
            self.loop.quit()

    def on_ws_message(self, _ws, kind, data):
        if kind != Soup.WebsocketDataType.TEXT:
            return
        message = json.loads(data.get_data().decode("utf-8"))
        t = message.get("type")
        if t == "registered":
            log("registered", venue=message["venue"], session=message["session"])
            if self.args.conference:
                self.join(self.args.conference)
            else:
                self.state = "waiting"
        elif t == "invite" and self.state == "waiting":
            self.join(message["conference"])
        elif t == "joined":
            self.conference = message["conference"]
            self.participants = message.get("participants", [])
            self.layout = message.get("layout", "")
            log("joined", conference=self.conference, seat=message.get("seat"))
            if self.pipe is None:
                self.state = "negotiating"
                self.start_media()
        elif t == "answer":
            self.on_answer(message["sdp"])
        elif t == "candidate":
            c = message.get("candidate")
            if c and self.webrtc:
                self.webrtc.emit("add-ice-candidate", c.get("sdpMLineIndex", 0), c["candidate"])
        elif t == "layout":
            self.layout = message["layout"]
            self.tiles = message["tiles"]
        elif t == "participant":
            p = message["participant"]
            self.participants = [x for x in self.participants if x["venue"] != p["venue"]]
            if message["event"] != "left":
                self.participants.append(p)
        elif t == "ping":
            self.send({"type": "pong", "ts": message.get("ts", 0)})
        elif t == "left" or t == "ended":
            log(t, conference=message.get("conference"), reason=message.get("reason", "left"))
            self.leaving = True
            self.state = "ended"
            self.loop.quit()
        elif t == "error":
            log("server_error", code=message["code"], message=message["message"])
            if message.get("ref") in ("hello", "join", "offer"):
                self.fail(3, message["code"], message["message"])

    def join(self, conference):
        self.state = "joining"
        self.send({"type": "join", "id": "join", "conference": str(conference)})

    def on_signal(self, *_args):
        if self.leaving:
            return False
        self.leaving = True
        if self.conference and self.ws:
            self.send({"type": "leave"})
            GLib.timeout_add(2000, self.loop.quit)  # in case `left` never comes
        else:
            self.loop.quit()
        return False

    def fail(self, code, error_code, message):
        print("webrtc_venue: %s" % message, file=sys.stderr)
        self.error = {"code": error_code, "message": message}
        self.exit_code = code
        self.state = "failed"
        self.loop.quit()

    # ------------------------------------------------------------------ media

    def start_media(self):
        a = self.args
        r, g, b = parse_colour(a.color)
        description = (
            "webrtcbin name=webrtc bundle-policy=max-bundle latency=100 "
            "videotestsrc is-live=true pattern=solid-color foreground-color=0x%02x%02x%02x%02x "
            "! video/x-raw,width=320,height=180,framerate=15/1 ! videoconvert "
            "! openh264enc bitrate=300000 gop-size=30 ! video/x-h264,profile=constrained-baseline "
            "! rtph264pay config-interval=-1 aggregate-mode=zero-latency pt=96 "
            "! application/x-rtp,media=video,encoding-name=H264,payload=96,"
            "packetization-mode=(string)1 ! webrtc. "
            "audiotestsrc is-live=true wave=sine freq=%d volume=0.4 ! audioconvert ! audioresample "
            "! opusenc ! rtpopuspay pt=111 "
            "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! webrtc. "
            % (255, r, g, b, a.tone))
        self.pipe = Gst.parse_launch(description)
        self.webrtc = self.pipe.get_by_name("webrtc")
        # libnice leaves out loopback unless it is named; naming addresses also confines ICE.
        # Kept on self for the life of the process: webrtcbin 1.22 leaves its ICE agent floating,
        # PyGObject 3.42 sinks that reference into its wrapper, and a wrapper that goes away
        # frees the agent under webrtcbin.
        self.ice = self.webrtc.get_property("ice-agent")
        for address in a.ice_address:
            self.ice.emit("add-local-ip-address", address)
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("on-ice-candidate", self.on_ice_candidate)
        self.webrtc.connect("notify::ice-gathering-state", self.on_gathering_state)
        self.webrtc.connect("pad-added", self.on_incoming_stream)
        bus = self.pipe.get_bus()
        bus.add_signal_watch()
        bus.connect("message::error", self.on_pipeline_error)
        self.pipe.set_state(Gst.State.PLAYING)

    def stop_media(self):
        if self.pipe is not None:
            self.pipe.set_state(Gst.State.NULL)
            self.pipe = None
            self.webrtc = None

    def on_pipeline_error(self, _bus, message):
        error, debug = message.parse_error()
        log("pipeline_error", element=message.src.get_name(), error=error.message, debug=debug)
        GLib.idle_add(self.fail, 1, "media_failed", "the pipeline failed: " + error.message)

    def on_negotiation_needed(self, webrtc):
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, webrtc, None)
        webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, webrtc, _data):
        promise.wait()
        reply = promise.get_reply()  # kept: get_value on the temporary crashes PyGObject 3.42
        offer = reply.get_value("offer")
        text = offer.sdp.as_text()
        # The offer leaves first: the server refuses candidates before it has an offer.
        GLib.idle_add(self.send_offer, text)
        webrtc.emit("set-local-description", offer, Gst.Promise.new())

    def send_offer(self, text):
        self.send({"type": "offer", "id": "offer", "sdp": text})
        self.offer_sent = True
        return False

    def on_ice_candidate(self, _webrtc, mline, candidate):
        if candidate.startswith("a="):
            candidate = candidate[2:]
        GLib.idle_add(self.send, {"type": "candidate",
                                  "candidate": {"candidate": candidate, "sdpMLineIndex": mline}})

    def on_gathering_state(self, webrtc, _pspec):
        if webrtc.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(self.send, {"type": "candidate", "candidate": None})

    def on_answer(self, text):
        ok, sdp = GstSdp.SDPMessage.new_from_text(text)
        if ok != GstSdp.SDPResult.OK:
            self.fail(1, "bad_answer", "the server's answer is not SDP")
            return
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        self.webrtc.emit("set-remote-description", answer, Gst.Promise.new())
        self.state = "in_call"
        log("answered")

    def on_incoming_stream(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        decode = Gst.ElementFactory.make("decodebin")
        decode.connect("pad-added", self.on_decoded_pad)
        self.pipe.add(decode)
        decode.sync_state_with_parent()
        pad.link(decode.get_static_pad("sink"))

    def on_decoded_pad(self, _decodebin, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_name()
        if name.startswith("video/"):
            branch = ("queue ! videoconvert ! video/x-raw,format=RGB "
                      "! appsink name=v emit-signals=true max-buffers=2 drop=true sync=false")
            callback = self.on_video_sample
        elif name.startswith("audio/"):
            branch = ("queue ! audioconvert ! audioresample "
                      "! audio/x-raw,format=S16LE,rate=48000,channels=1,layout=interleaved "
                      "! appsink name=a emit-signals=true sync=false")
            callback = self.on_audio_sample
        else:
            return
        bin_ = Gst.parse_bin_from_description(branch, True)
        bin_.get_by_name("v" if callback == self.on_video_sample else "a").connect(
            "new-sample", callback)
        self.pipe.add(bin_)
        bin_.sync_state_with_parent()
        pad.link(bin_.get_static_pad("sink"))

    def on_video_sample(self, sink):
        sample = sink.emit("pull-sample")
        s = sample.get_caps().get_structure(0)
        width, height = s.get_value("width"), s.get_value("height")
        buffer = sample.get_buffer()
        ok, info = buffer.map(Gst.MapFlags.READ)
        if ok:
            data = bytes(info.data)
            buffer.unmap(info)
            with self.lock:
                self.frame = (width, height, len(data) // height, data)
                self.frames_decoded += 1
        return Gst.FlowReturn.OK

    def on_audio_sample(self, sink):
        sample = sink.emit("pull-sample")
        buffer = sample.get_buffer()
        ok, info = buffer.map(Gst.MapFlags.READ)
        if ok:
            samples = array.array("h", bytes(info.data))
            buffer.unmap(info)
            with self.lock:
                self.audio.extend(samples)
                del self.audio[:-AUDIO_WINDOW]
                self.audio_samples += len(samples)
        return Gst.FlowReturn.OK

    # ------------------------------------------------------------------ report

    def measure(self):
        with self.lock:
            frame = self.frame
            audio = array.array("h", self.audio)
            frames, samples = self.frames_decoded, self.audio_samples
        tiles = []
        for t in self.tiles:
            tile = dict(t)
            if frame:
                width, height, stride, data = frame
                cx = int((t["x"] + t["w"] / 2) * width)
                cy = int((t["y"] + t["h"] / 2) * height)
                half = max(1, int(min(t["w"] * width, t["h"] * height) / 8))
                total, n = [0, 0, 0], 0
                for y in range(max(0, cy - half), min(height, cy + half)):
                    row = y * stride
                    for x in range(max(0, cx - half), min(width, cx + half)):
                        i = row + 3 * x
                        total[0] += data[i]
                        total[1] += data[i + 1]
                        total[2] += data[i + 2]
                        n += 1
                if n:
                    tile["rgb"] = hex_colour([c / n for c in total])
            tiles.append(tile)
        probes = [{"hz": hz, "dbov": round(goertzel_dbov(audio, hz), 1)}
                  for hz in self.args.probe_hz]
        return {
            "venue": self.args.venue, "state": self.state, "conference": self.conference,
            "elapsed_s": round(time.monotonic() - self.started, 1), "layout": self.layout,
            "participants": self.participants, "tiles": tiles,
            "video": {"frames_decoded": frames,
                      "width": frame[0] if frame else 0, "height": frame[1] if frame else 0},
            "audio": {"samples": samples, "probes": probes},
        }

    def expectations_met(self, report):
        for venue, colour in self.args.expect:
            tile = next((t for t in report["tiles"] if t["venue"] == venue and "rgb" in t), None)
            if tile is None:
                return False
            seen = parse_colour(tile["rgb"])
            if max(abs(s - c) for s, c in zip(seen, colour)) > COLOUR_TOLERANCE:
                return False
        for hz in self.args.expect_tone:
            level = next(p["dbov"] for p in report["audio"]["probes"] if p["hz"] == hz)
            if level < HEARD_DBOV:
                return False
        return True

    def write_report(self, final=False):
        report = self.measure()
        if self.expect_met_at is None and self.state == "in_call" and self.expectations_met(report):
            self.expect_met_at = report["elapsed_s"]
            log("expectations_met", elapsed_s=self.expect_met_at)
        report["expectations_met_s"] = self.expect_met_at
        report["final"] = final
        if self.error:
            report["error"] = self.error
        if self.args.report:
            tmp = self.args.report + ".tmp"
            with open(tmp, "w") as f:
                json.dump(report, f, ensure_ascii=False)
            os.replace(tmp, self.args.report)  # a reader never sees half a file
        if final:
            print(json.dumps(report, ensure_ascii=False), flush=True)

    def on_report_timer(self):
        self.write_report()
        return True


def main():
    p = argparse.ArgumentParser(description="A Plateau venue over WebRTC (webrtcbin).")
    p.add_argument("--server", required=True, help="ws://host:port/ws")
    p.add_argument("--venue", required=True)
    p.add_argument("--token", required=True, help="from `plateau venue-token VENUE`")
    p.add_argument("--conference", help="conference number; default: wait for the invite")
    p.add_argument("--color", default="#808080", help="#rrggbb to send")
    p.add_argument("--tone", type=int, default=440, help="sine tone to send, Hz")
    p.add_argument("--probe-hz", type=float, action="append", default=[],
                   help="report the received level at this frequency (repeatable)")
    p.add_argument("--expect", action="append", default=[], metavar="VENUE=#rrggbb",
                   help="expect this venue's tile in the mix to show this colour (repeatable)")
    p.add_argument("--expect-tone", type=float, action="append", default=[], metavar="HZ",
                   help="expect to hear this tone in the mix (repeatable)")
    p.add_argument("--seconds", type=float, default=0, help="stay this long; 0 = until SIGTERM")
    p.add_argument("--report", help="write the report (JSON) to this file as the call goes")
    p.add_argument("--report-interval", type=float, default=0.5)
    p.add_argument("--ice-address", action="append", default=[],
                   help="local address for ICE (repeatable; default 127.0.0.1)")
    args = p.parse_args()
    try:
        parse_colour(args.color)
        args.expect = [(v, parse_colour(c)) for v, c in (e.split("=", 1) for e in args.expect)]
    except ValueError as e:
        p.error(str(e))
    args.ice_address = args.ice_address or ["127.0.0.1"]
    args.probe_hz = sorted(set(args.probe_hz + args.expect_tone))
    Gst.init(None)
    code = Venue(args).run()
    # Leave without the interpreter's final garbage collection: the ICE agent's wrapper holds the
    # reference webrtcbin left floating (see start_media), so whichever of the two is collected
    # second frees the agent again (a crash at exit seen under MALLOC_PERTURB_ with
    # G_SLICE=always-malloc). Everything worth keeping (report, logs) is written by now.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
