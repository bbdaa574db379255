#!/usr/bin/env bash
# Writes a small synthetic Google Speech Commands v2 dataset, in the official layout, for the
# tests of evnn's GSCv2 prepare step: spoken words synthesised with espeak-ng (several voices,
# speeds and pitches), resampled with sox to 16 kHz 16-bit mono, split into validation and testing
# lists by the official speaker hashing, plus the separate test-set tree. Deterministic: the same
# tools give the same bytes on every run.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/make-gscv2-fixture.sh [--archives] [--jobs N] OUTPUT_DIR

Writes a synthetic Google Speech Commands v2 fixture into OUTPUT_DIR:
  speech_commands_v0.02/              one folder per word (the 10 command words and the
                                      unknown words bed, cat, dog, house), 14 espeak-ng voices
                                      ("speakers") x 2 utterances each, named
                                      <8-hex speaker>_nohash_<n>.wav; _background_noise_/ with
                                      three noise files; validation_list.txt and testing_list.txt
                                      chosen by speaker with the official hashing (10% / 10%)
  speech_commands_test_set_v0.02/     the testing_list clips: the 10 words, _unknown_/
                                      (<word>_<speaker>_nohash_<n>.wav.wav) and _silence_/ (<k>.wav)

Options:
  --archives   also write speech_commands_v0.02.tar.gz and speech_commands_test_set_v0.02.tar.gz
               into OUTPUT_DIR (members at the archive root: ./yes/..., as the official archives)
  --jobs N     parallel synthesis jobs (default: the number of CPUs)
  -h, --help   show this help

Needs espeak-ng, sox, sha1sum, GNU tar and gzip. Existing fixture folders in OUTPUT_DIR are replaced.
EOF
}

archives=0
jobs=$(nproc 2>/dev/null || echo 2)
out=''
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --archives) archives=1 ;;
    --jobs) [ $# -ge 2 ] || { echo "make-gscv2-fixture: --jobs needs a number" >&2; exit 2; }; jobs=$2; shift ;;
    -*) echo "make-gscv2-fixture: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "make-gscv2-fixture: only one OUTPUT_DIR may be given" >&2; exit 2; }; out=$1 ;;
  esac
  shift
done
[ -n "$out" ] || { usage >&2; exit 2; }

for tool in espeak-ng sox sha1sum tar gzip xargs; do
  command -v "$tool" >/dev/null 2>&1 || { echo "make-gscv2-fixture: $tool is not installed (apt-get install espeak-ng sox)" >&2; exit 3; }
done

export LC_ALL=C
COMMANDS=(yes no up down left right on off stop go)
UNKNOWNS=(bed cat dog house)
# The voices stand in for speakers. The list is chosen so that the official hashing below puts
# two of them in validation_list and two in testing_list (a tenth each would round to one or none).
VOICES=(en-us en-gb en-us+f3 en+f2 en-gb-scotland en-029 en-gb-x-rp+f4 en-gb-x-gbcwmd+m7 en+klatt en+linda
        en-us+m3 en-gb-scotland+linda en-us+Annie en-gb-x-rp+m4)
UTTERANCES=2

main="$out/speech_commands_v0.02"
test="$out/speech_commands_test_set_v0.02"
mkdir -p "$out"
rm -rf "$main" "$test" "$out/speech_commands_v0.02.tar.gz" "$out/speech_commands_test_set_v0.02.tar.gz"
mkdir -p "$main/_background_noise_" "$test/_silence_" "$test/_unknown_"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

speaker_id() { printf '%s' "evnn-fixture:$1" | sha1sum | cut -c1-8; }

# The official split rule (the dataset's README, input_data.which_set): sha1 of the speaker part of
# the file name, modulo 2^27 (the low 27 bits), as a percentage of 2^27-1; below 10 is
# validation, below 20 testing.
which_set() {
  local h low
  h=$(printf '%s' "$1" | sha1sum | cut -c34-40)
  low=$((0x$h & 0x7FFFFFF))
  if [ $((low * 100)) -lt $((10 * 134217727)) ]; then echo validation
  elif [ $((low * 100)) -lt $((20 * 134217727)) ]; then echo testing
  else echo training; fi
}

# One synthesis job: word voice speed pitch amplitude length output. Length 1 pads or trims to
# exactly one second, as almost all real clips are; a shorter length leaves a short clip.
synth() {
  local word=$1 voice=$2 speed=$3 pitch=$4 amp=$5 len=$6 dst=$7 raw
  raw="$dst.raw.wav"
  espeak-ng -v "$voice" -s "$speed" -p "$pitch" -a "$amp" -w "$raw" "$word"
  # -R: repeatable (fixed seeds), -D: no dither, so the output bytes never vary; -V1: no warnings.
  sox -R -D -V1 "$raw" -r 16000 -b 16 -c 1 -e signed-integer "$dst.speech.wav" pad 0 1 trim 0 "$len"
  # A faint noise floor (about -60 dBFS) under the speech, as every real recording has: without
  # it the padding is digital silence, whose frames sit at the features' eps floor (-313 dB) and
  # dominate the global statistics.
  sox -R -D -V1 -n -r 16000 -b 16 -c 1 -e signed-integer "$dst.floor.wav" synth "$len" whitenoise vol 0.001
  sox -R -D -V1 -m "$dst.speech.wav" "$dst.floor.wav" -b 16 -e signed-integer "$dst"
  rm -f "$raw" "$dst.speech.wav" "$dst.floor.wav"
}
export -f synth

words=("${COMMANDS[@]}" "${UNKNOWNS[@]}")
: >"$work/jobs"
: >"$work/lists"
for w in "${!words[@]}"; do
  word=${words[$w]}
  mkdir -p "$main/$word"
  for v in "${!VOICES[@]}"; do
    voice=${VOICES[$v]}
    spk=$(speaker_id "$voice")
    set_name=$(which_set "$spk")
    for n in $(seq 0 $((UTTERANCES - 1))); do
      speed=$((130 + (v * 7 + n * 45 + w * 3) % 70))
      pitch=$((25 + (v * 11 + n * 17 + w * 5) % 50))
      amp=$((70 + (v * 13 + w * 7 + n * 29) % 80))
      len=1
      if [ $(((v + w + n) % 9)) -eq 0 ]; then len=0.7; fi
      file="${spk}_nohash_${n}.wav"
      echo "$word $voice $speed $pitch $amp $len $main/$word/$file" >>"$work/jobs"
      echo "$set_name $word $file" >>"$work/lists"
    done
  done
done
xargs -P "$jobs" -L 1 bash -c 'synth "$@"' _ <"$work/jobs"

awk '$1 == "validation" { print $2 "/" $3 }' "$work/lists" | sort >"$main/validation_list.txt"
awk '$1 == "testing" { print $2 "/" $3 }' "$work/lists" | sort >"$main/testing_list.txt"
printf 'Synthetic Speech Commands v0.02 fixture written by evnn scripts/make-gscv2-fixture.sh (espeak-ng voices, not real speech).\n' >"$main/README.md"
printf 'Synthetic background noise (sox synth).\n' >"$main/_background_noise_/README.md"

# Background noise, a few seconds each, at modest levels (sox's noise generators, seeded by -R).
sox -R -D -n -r 16000 -b 16 -c 1 -e signed-integer "$main/_background_noise_/white_noise.wav" synth 3 whitenoise vol 0.3
sox -R -D -n -r 16000 -b 16 -c 1 -e signed-integer "$main/_background_noise_/pink_noise.wav" synth 4 pinknoise vol 0.4
sox -R -D -n -r 16000 -b 16 -c 1 -e signed-integer "$main/_background_noise_/brown_noise.wav" synth 2.5 brownnoise vol 0.5

# The test-set tree: keyword clips under their word, unknown words under _unknown_ with the word
# and a doubled extension (as backward_0c540988_nohash_0.wav.wav in the official archive), and
# one-second silence cut from the noise files.
while read -r path; do
  word=${path%%/*}
  file=${path#*/}
  case " ${COMMANDS[*]} " in
    *" $word "*) mkdir -p "$test/$word"; cp "$main/$path" "$test/$word/$file" ;;
    *) cp "$main/$path" "$test/_unknown_/${word}_${file}.wav" ;;
  esac
done <"$main/testing_list.txt"
k=0
for noise in white_noise pink_noise brown_noise; do
  for start in 0.25 1.1; do
    sox -R -D -V1 "$main/_background_noise_/$noise.wav" "$test/_silence_/$k.wav" trim "$start" 1 vol 0.2
    k=$((k + 1))
  done
done

if [ "$archives" -eq 1 ]; then
  # Reproducible archives: sorted members, fixed times and owners, gzip without a name or time.
  for tree in "$main" "$test"; do
    tar -C "$tree" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | gzip -n -6 >"$tree.tar.gz"
  done
fi

count() { find "$1" -name '*.wav' | wc -l; }
echo "make-gscv2-fixture: $(count "$main") clips in $main ($(wc -l <"$main/validation_list.txt") validation, $(wc -l <"$main/testing_list.txt") testing), $(count "$test") in $test"
