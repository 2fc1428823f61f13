# ffmpeg (from the base's package manager) makes a one-second 440 Hz tone; whisper's own audio
# loader decodes it through ffmpeg into 16 kHz samples. No model is downloaded.
import os
import subprocess
import tempfile

import whisper.audio

with tempfile.TemporaryDirectory() as d:
    wav = os.path.join(d, "tone.wav")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", wav], check=True)
    samples = whisper.audio.load_audio(wav)
assert abs(len(samples) - 16000) < 200, len(samples)
assert 0.1 < float(abs(samples).max()) <= 1.0
print("ffmpeg tone decoded by whisper:", len(samples), "samples")
