"""Phone sets (English, Japanese), label files (.lab, Festival segments, Praat TextGrid) and frame labels.

- ``sets``: ``PhoneSet`` (classes in model output order, silence, notations, accepted spellings,
  lookups), the two instances ``ENGLISH`` and ``JAPANESE``, ``PHONE_SETS``, ``get_phone_set``,
  ``phone_set_of``, and the English-only module names (``PHONES``, ``PHONE_INFO``, ``phone_index``,
  ``to_phone``, ``describe``, ``FESTIVAL_TO_PHONE``).
- ``labels``: ``Segment`` and the label files: .lab (ours and HTK's), Festival's segments, Praat
  TextGrid.
- ``frames``: ``frame_labels`` and ``frame_states``, the class and state of every feature frame.

Every name is re-exported here, so ``from core.phones import ...`` works as before issue 26.
"""

from core.phones.frames import frame_labels, frame_states, run_states
from core.phones.labels import (
    Segment,
    read_festival_segs,
    read_lab,
    read_textgrid,
    write_lab,
    write_textgrid,
)
from core.phones.sets import (
    ENGLISH,
    FESTIVAL_TO_PHONE,
    JAPANESE,
    PHONE_INFO,
    PHONE_SETS,
    PHONES,
    SILENCE,
    PhoneError,
    PhoneInfo,
    PhoneSet,
    describe,
    get_phone_set,
    phone_index,
    phone_set_of,
    to_phone,
)

__all__ = [
    "ENGLISH",
    "FESTIVAL_TO_PHONE",
    "JAPANESE",
    "PHONES",
    "PHONE_INFO",
    "PHONE_SETS",
    "PhoneError",
    "PhoneInfo",
    "PhoneSet",
    "SILENCE",
    "Segment",
    "describe",
    "frame_labels",
    "frame_states",
    "run_states",
    "get_phone_set",
    "phone_index",
    "phone_set_of",
    "read_festival_segs",
    "read_lab",
    "read_textgrid",
    "to_phone",
    "write_lab",
    "write_textgrid",
]
