"""`teamfoned sounds generate` speaks the prompt set with the real espeak-ng and sox, and keeps a site's recordings."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import pytest

from teamfoned.cli.main import main
from teamfoned.domain.prompts import to_generate
from teamfoned.telephony import sound_set
from teamfoned.telephony.sound_set import MANIFEST, Outcome, SoundSetError, generate


def test_generates_the_dutch_set_asterisk_plays(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sounds", "generate", "--language", "nl", "--sounds-dir", str(tmp_path)]) == 0
    names = [p.name for p in to_generate("nl")]
    assert f"nl: {len(names)} written, 0 unchanged, 0 kept" in capsys.readouterr().out
    for name in names:
        with wave.open(str(tmp_path / "nl" / f"{name}.wav")) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2), name
            assert w.getnframes() > 800, name  # at least a tenth of a second of speech
    assert main(["sounds", "generate", "--language", "nl", "--sounds-dir", str(tmp_path)]) == 0
    assert f"nl: 0 written, {len(names)} unchanged, 0 kept" in capsys.readouterr().out


def test_english_is_only_what_asterisk_does_not_ship(tmp_path: Path) -> None:
    written = {r.path.relative_to(tmp_path / "en").as_posix() for r in generate("en", tmp_path)}
    assert "teamfoned/queue-all-busy.wav" in written
    assert "calling.wav" not in written and "digits/1.wav" not in written


def fake_speaker(text: str, language: str, out: Path) -> None:
    out.write_bytes(f"{language}:{text}".encode())


def test_a_sites_recording_is_kept_unless_forced(tmp_path: Path) -> None:
    nl = tmp_path / "nl"
    (nl / "digits").mkdir(parents=True)
    (nl / "digits/1.wav").write_bytes(b"recorded by the site")
    (nl / "vm-goodbye.gsm").write_bytes(b"a site's gsm")
    results = {r.path.relative_to(nl).as_posix(): r.outcome for r in generate("nl", tmp_path, speak=fake_speaker)}
    assert results["digits/1.wav"] is Outcome.KEPT and results["vm-goodbye.gsm"] is Outcome.KEPT
    assert (nl / "digits/1.wav").read_bytes() == b"recorded by the site"
    assert not (nl / "vm-goodbye.wav").exists()
    assert results["digits/2.wav"] is Outcome.WROTE

    # A generated file the site later replaced is theirs now.
    (nl / "digits/2.wav").write_bytes(b"re-recorded")
    again = {r.path.relative_to(nl).as_posix(): r.outcome for r in generate("nl", tmp_path, speak=fake_speaker)}
    assert again["digits/2.wav"] is Outcome.KEPT and again["digits/3.wav"] is Outcome.UNCHANGED

    forced = {r.path.relative_to(nl).as_posix(): r.outcome
              for r in generate("nl", tmp_path, force=True, speak=fake_speaker)}
    assert forced["digits/1.wav"] is Outcome.WROTE and (nl / "digits/1.wav").read_bytes() == b"nl:een"
    assert "digits/1" in json.loads((nl / MANIFEST).read_text())


def test_a_changed_text_is_spoken_again(tmp_path: Path) -> None:
    generate("nl", tmp_path, speak=fake_speaker)
    manifest = tmp_path / "nl" / MANIFEST
    data = json.loads(manifest.read_text())
    data["digits/1"]["text"] = "older wording"
    manifest.write_text(json.dumps(data))
    results = {r.path.name: r.outcome for r in generate("nl", tmp_path, speak=fake_speaker)
               if r.path.parent.name == "digits"}
    assert results["1.wav"] is Outcome.WROTE and results["2.wav"] is Outcome.UNCHANGED


def test_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["sounds", "generate", "--language", "de", "--sounds-dir", str(tmp_path)]) == 2
    assert "unknown language 'de'; known: en, nl" in capsys.readouterr().err
    monkeypatch.setattr(sound_set.shutil, "which", lambda tool: None if tool == "espeak-ng" else "/bin/true")
    with pytest.raises(SoundSetError, match="apt-get install espeak-ng"):
        generate("nl", tmp_path)
    assert not (tmp_path / "nl").exists()
