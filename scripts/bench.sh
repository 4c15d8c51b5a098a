#!/usr/bin/env bash
# bench.sh [BUILD_DIR] [OUT_DIR]: build and run the benchmarks, keep their JSON, and print the
# issue's goals as met / missed. Not part of scripts/test.sh (it takes minutes and wants a quiet
# machine). Environment: SECONDS_MIX (measured window of `bench mix`, default 20), PROBES (latency
# probes, default 30), BASELINE_SECONDS (media seconds of the stock baseline, default 2),
# RT_PRIORITY (e.g. 10: also run `bench mix` under `chrt -r` without the baseline, which shows
# what the engine does when other work on the machine cannot preempt it, as on a dedicated MCU).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-$build/bench-results/$(date -u +%Y%m%dT%H%M%SZ)}
window=${SECONDS_MIX:-20}
probes=${PROBES:-30}
baseline_seconds=${BASELINE_SECONDS:-2}
rt_priority=${RT_PRIORITY:-}

# Configure like scripts/build.sh, then build only what is run here.
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=debugoptimized
targets=(plateau/plateau)
for t in bench/scheduler/scheduler_admission_bench bench/mcu/video_mixer_cpu \
  bench/signaling/signaling_bench; do
  if ninja -C "$build" -t query "$t" >/dev/null 2>&1; then targets+=("$t"); fi
done
ninja -C "$build" "${targets[@]}"
mkdir -p "$out"
plateau="$build/plateau/plateau"
echo "bench.sh: results in $out (load average: $(cut -d' ' -f1-3 /proc/loadavg))"

run() {  # name, command...
  local name=$1
  shift
  echo "bench.sh: $name: $*"
  "$@" >"$out/$name.json" 2>"$out/$name.log"
}

run audio-65 "$plateau" bench audio --venues 65 --json
run mix-16 "$plateau" bench mix --venues 16 --visible 16 --seconds "$window" --probes "$probes" \
  --baseline-seconds "$baseline_seconds" --json
run mix-65 "$plateau" bench mix --venues 65 --visible 16 --seconds "$window" --probes "$probes" \
  --baseline-seconds "$baseline_seconds" --json
if [ -n "$rt_priority" ]; then
  for n in 16 65; do
    run "mix-$n-rt" chrt -r "$rt_priority" "$plateau" bench mix --venues "$n" --visible 16 \
      --seconds "$window" --probes "$probes" --no-baseline --json
  done
fi
if [ -x "$build/bench/scheduler/scheduler_admission_bench" ]; then
  run scheduler-admission "$build/bench/scheduler/scheduler_admission_bench" \
    --config configs/qinghai.toml
fi
if [ -x "$build/bench/mcu/video_mixer_cpu" ]; then
  run video-mixer-65 "$build/bench/mcu/video_mixer_cpu" --venues 65 --visible 16 --seconds 10
fi
if [ -x "$build/bench/signaling/signaling_bench" ]; then  # listener stall while meetings start
  run signaling-1-thread "$build/bench/signaling/signaling_bench" --threads 1 --rounds 3 --json
  run signaling-2-threads "$build/bench/signaling/signaling_bench" --threads 2 --rounds 3 --json
fi

/usr/bin/python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
audio = json.loads((out / "audio-65.json").read_text())
m16 = json.loads((out / "mix-16.json").read_text())
m65 = json.loads((out / "mix-65.json").read_text())
def line(goal, ok, figure):
    print(f"  [{'met' if ok else 'MISSED'}] {goal}: {figure}")
print(f"bench audio, 65 venues: mix-minus {audio['cpu_cores']:.3f} cores, "
      f"baseline {audio['baseline_cpu_cores']:.3f} cores, ratio {audio['cpu_ratio']:.2f}x")
for m in (m16, m65):
    b = m.get("baseline") or {}
    print(f"bench mix, {m['venues']} venues, {m['visible']} visible: MCU {m['cpu_cores']:.3f} cores, "
          f"{m['output_fps_min']:.1f} fps (worst second {m['output_fps_min_1s']:.0f}), "
          f"realtime {m['realtime']}, decoders {m['decoders']}, encoders {m['encoders']}; "
          f"latency p95 audio {m['latency_ms']['audio_p95']:.1f} ms, video {m['latency_ms']['video_p95']:.1f} ms; "
          f"baseline {b.get('cpu_cores', 0):.2f} cores per media second at {b.get('fps_reached', 0):.1f} fps "
          f"(ratio {m.get('ratio') or 0:.2f}x)")
def goals(title, m16, m65):
    print(f"goals (65 venues, 16 visible, two tiers), {title}, load average {m65['load_average']}:")
    line("real time, 30 fps sustained", m65["realtime"],
         f"{m65['output_fps_min']:.2f} fps, worst second {m65['output_fps_min_1s']:.0f}")
    line("under 1.2 cores", m65["cpu_cores"] < 1.2, f"{m65['cpu_cores']:.3f} cores")
    scale = m65["cpu_cores"] / m16["cpu_cores"] if m16["cpu_cores"] > 0 else float("inf")
    line("at most 1.3x the cost at 16 venues", scale <= 1.3,
         f"{scale:.2f}x ({m16['cpu_cores']:.3f} -> {m65['cpu_cores']:.3f} cores)")
    line("audio latency p95 <= 60 ms", m65["latency_ms"]["audio_p95"] <= 60,
         f"{m65['latency_ms']['audio_p95']:.1f} ms")
    line("video latency p95 <= 100 ms", m65["latency_ms"]["video_p95"] <= 100,
         f"{m65['latency_ms']['video_p95']:.1f} ms")
goals("normal priority", m16, m65)
if (out / "mix-65-rt.json").exists():
    r16 = json.loads((out / "mix-16-rt.json").read_text())
    r65 = json.loads((out / "mix-65-rt.json").read_text())
    goals("real-time priority", r16, r65)
PY
