#!/bin/bash
# Regenerates tests/fuzz/corpus/controller_submit/ (binary SubmitJobRequest messages) from the
# text-format sources in tests/fuzz/seeds/controller_submit/. Run from anywhere; needs protoc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/corpus/controller_submit
mkdir -p "$out"
for src in "$here"/seeds/controller_submit/*.txtpb; do
  protoc --proto_path="$root/proto" --encode=locus.proto.SubmitJobRequest "$root/proto/locus.proto" \
    < "$src" > "$out/$(basename "$src" .txtpb).bin"
done
echo "encoded $(ls "$here"/seeds/controller_submit/*.txtpb | wc -l) seeds into $out"
