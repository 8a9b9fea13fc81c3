#!/usr/bin/env bash
# `make demo`: a real local cluster (a controller and 4 node daemons on loopback), a handful of
# real jobs showing each end state, the queue and the results, then the cluster torn down.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"
BIN="$REPO/build/bin"
export PATH="$BIN:$PATH"
STATE="$(mktemp -d /tmp/locus-demo-XXXXXX)"
WORK="$STATE/work"
mkdir -p "$WORK"
cleanup() { locus down --state "$STATE" >/dev/null 2>&1 || true; }
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Two racks, and a dataset catalog for the data-locality step: 4 files of 2 blocks of 1000
# 10-byte lines, each block with 3 replicas placed as HDFS places them (writer, then two nodes
# of the other rack).
mkdir -p "$STATE/data"
python3 - "$STATE/data" <<'PY'
import json, sys
d = sys.argv[1]; files = []; line = 0
for f in range(4):
    path = f"{d}/part-{f}"
    with open(path, "w") as out:
        for i in range(2000):
            out.write(f"{line:09d}\n"); line += 1
    blocks = []
    for b in range(2):
        w = (2 * f + b) % 4 + 1; other = [3, 4] if w <= 2 else [1, 2]
        blocks.append({"offset": b * 10000, "length": 10000, "hosts": [f"n{w}"] + [f"n{x}" for x in other]})
    files.append({"path": path, "size": 20000, "blocks": blocks})
json.dump({"datasets": {"logs": {"files": files}}}, open(f"{d}/catalog.json", "w"), indent=1)
PY
cat > "$STATE/locus.toml" <<TOML
[[switch]]
name = "rack1"
nodes = "n[1-2]"
[[switch]]
name = "rack2"
nodes = "n[3-4]"
[[switch]]
name = "spine"
switches = "rack[1-2]"
[locality]
catalog = "$STATE/data/catalog.json"
TOML

step "locus up --nodes 4 (each emulating a 2-NUMA, 8-core machine; tasks bound to this host's real CPUs; two racks)"
eval "$(locus up --nodes 4 --state "$STATE" --config "$STATE/locus.toml" --topology 'pack:1 numa:2 core:4 pu:1' --detach)"
locus nodes
cd "$WORK"

cat > hello-mpi-style.sh <<'JOB'
#!/bin/bash
#SBATCH --job-name=multinode
#SBATCH --nodes=2
#SBATCH --ntasks=8
#SBATCH --time=00:05:00
echo "job $SLURM_JOB_ID on $(hostname): nodes=$LOCUS_NODELIST tasks=$LOCUS_NTASKS"
grep Cpus_allowed_list /proc/self/status
JOB

cat > steps-and-mpi.sh <<JOB
#!/bin/bash
#SBATCH --job-name=steps-mpi
#SBATCH --nodes=2
#SBATCH --ntasks=4
#SBATCH --time=00:05:00
# Job steps through the node daemons (no ssh), each task on its own core:
locus run --label bash -c 'echo "task \$LOCUS_PROCID on \$LOCUS_NODENAME, cpus \$(grep Cpus_allowed_list /proc/self/status | cut -f2)"'
# A real Open MPI program across both nodes (mpirun with locus-rsh as its rsh agent):
srun $REPO/build/tests/mpi/mpi_ring
JOB

step "submitting: a multi-node job, job steps and MPI, an array, a failing job, a job to cancel, a job that times out"
multi=$(locus submit --parsable hello-mpi-style.sh)
steps=$(locus submit --parsable steps-and-mpi.sh)
array=$(locus submit --parsable -J squares --array 1-6%3 --wrap 'echo "task $LOCUS_ARRAY_TASK_ID: $((LOCUS_ARRAY_TASK_ID * LOCUS_ARRAY_TASK_ID))"')
failing=$(locus submit --parsable -J failing --wrap 'echo "about to fail" >&2; exit 3')
victim=$(locus submit --parsable -J to-cancel --wrap 'sleep 600')
slow=$(locus submit --parsable -J too-slow -t 0:02 --wrap 'echo started; sleep 600')
echo "multi-node=$multi array=$array failing=$failing cancel=$victim timeout=$slow"

step "locus queue"
locus queue

step "locus cancel $victim"
locus cancel "$victim"

step "locus wait (the time limit of job $slow is 2 seconds; SIGTERM, then SIGKILL after the grace)"
locus wait --timeout 120 "$multi" "$steps" "$array" "$failing" "$victim" "$slow" || true

step "locus queue --state all"
locus queue --state all

step "outputs"
for f in locus-*.out; do echo "--- $f"; cat "$f"; done

step "locus show $failing"
locus show "$failing"

step "the same jobs through the Slurm drop-in commands: sacct -X, then squeue"
sacct -X -o JobID,JobName,State,ExitCode,Elapsed,NNodes,NodeList
squeue

step "locus share (fair-share usage charged as the jobs ended)"
locus share

step "a service on a full cluster: 32 batch jobs fill the 32 cores, then 2 web-server replicas arrive (QoS service preempts normal)"
fill=()
for _ in $(seq 32); do fill+=("$(locus submit --parsable -J filler -o /dev/null --wrap 'sleep 120')"); done
for _ in $(seq 100); do [[ $(locus queue --state running | grep -c filler) -eq 32 ]] && break; sleep 0.1; done
(cd "$WORK" && locus service create web --replicas 2 --cpus 1 --port auto --health-http / \
  --health-interval 1 --health-grace 1 -- python3 -m http.server '$LOCUS_PORT' --bind 127.0.0.1)
for _ in $(seq 150); do
  [[ $(locus service show web --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["healthy"])') -eq 2 ]] && break
  sleep 0.2
done
locus service show web
endpoint=$(locus service endpoints web | head -1)
echo "GET http://$endpoint/ -> $(python3 -c "import urllib.request; print(urllib.request.urlopen('http://$endpoint/').status)")"
echo "preempted batch jobs (requeued, they run again once the service is gone):"
for j in "${fill[@]}"; do locus show "$j" | grep -E "Preemption=" | sed "s/^ */  job $j: /" || true; done
locus service delete web
locus cancel "${fill[@]}" 2>/dev/null || true

step "data locality: locus data locate dataset:logs, then a dataflow job (one task per block, run next to it)"
locus data locate dataset:logs
flow=$(locus submit --parsable --dataflow --input dataset:logs -o 'flow-%a.out' --task-cmd \
  'echo "block @$LOCUS_INPUT_OFFSET of $(basename $LOCUS_INPUT_PATH) on $LOCUS_NODENAME (replicas $LOCUS_INPUT_NODES): $(tail -c +$((LOCUS_INPUT_OFFSET+1)) $LOCUS_INPUT_PATH | head -c $LOCUS_INPUT_LENGTH | wc -l) lines"')
locus wait "$flow" >/dev/null || true
cat flow-*.out
echo "locality of job $flow: $(locus show "$flow" --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["locality"]))')"

step "locus down"
cleanup

step "GPU nodes: locus up --nodes 2 --topology-xml tests/data/gpu-node-2x32c-4gpu.xml (2 sockets, 4 GPUs each, emulated)"
GPU_STATE="$STATE/gpu"
mkdir -p "$GPU_STATE"
cleanup() { locus down --state "$GPU_STATE" >/dev/null 2>&1 || true; }
eval "$(locus up --nodes 2 --state "$GPU_STATE" --topology-xml "$REPO/tests/data/gpu-node-2x32c-4gpu.xml" --detach)"
locus nodes
report='echo "GPUs: CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES"; grep -E "(Cpus|Mems)_allowed_list" /proc/self/status'
g2=$(locus submit --parsable -J two-gpus -c 4 --mem 2G --gpus 2 --wrap "$report")
gt=$(locus submit --parsable -J typed-gpu --gres gpu:nvidia_rtx_a4000:1 --wrap "$report")
gn=$(locus submit --parsable -J gpus-per-node -N 2 --gpus-per-node 2 --constraint 'gpu&intel' --wrap "$report")
oom=$(locus submit --parsable -J too-big --mem 64M --wrap "python3 -c \"s = 'x' * (400 << 20)\"")
locus wait --timeout 60 "$g2" "$gt" "$gn" "$oom" || true
for j in "$g2" "$gt" "$gn"; do locus show "$j" | grep -E "JobId|Node="; cat "locus-$j.out"; done
echo "job $oom (--mem 64M, writes 400 MB): $(locus queue --state all | awk -v id="$oom" '$1 == id {print $4}')"
locus submit --gpus-per-node 8 --wrap true || echo "(refused at submit, as it should be)"
cleanup
trap - EXIT
echo "demo state and outputs kept in $STATE"
