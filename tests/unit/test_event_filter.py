"""Every ARI event type the telephony modules read is one the application's event filter lets through."""

import ast
import re
from pathlib import Path

import teamfoned.telephony
from teamfoned.telephony.ari_events import CALL_EVENTS, CLIENT_EVENTS

# The shape of Asterisk's ARI event type names (channel states like "Up" do not match it).
EVENT_NAME = re.compile(r"^(Stasis|Channel|Bridge|Playback|Recording|Dial|Application|Endpoint|Device|"
                        r"Contact|Peer|TextMessage)[A-Z][A-Za-z]*$")


def _event_names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and EVENT_NAME.match(node.value)}


def test_every_event_type_the_telephony_modules_read_passes_the_filter():
    folder = Path(teamfoned.telephony.__file__).parent
    read = set().union(*(_event_names_in(path) for path in folder.glob("*.py")))
    assert read, "no event type found: the scan is broken"
    assert read <= CALL_EVENTS | CLIENT_EVENTS, f"not in the event filter: {sorted(read - CALL_EVENTS - CLIENT_EVENTS)}"


def test_the_filter_names_only_event_types():
    assert all(EVENT_NAME.match(kind) for kind in CALL_EVENTS | CLIENT_EVENTS)
