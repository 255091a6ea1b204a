"""Character stage: discover the people of a novel, group their aliases, scan their mentions.

Pure Python (no Django); the pipeline calls `discover_characters` once per novel and
`scan_mentions` again whenever aliases are edited by hand.
"""

from .discovery import FoundCharacter, discover_characters
from .scanning import Key, MentionIndex, scan_mentions

__all__ = ["FoundCharacter", "Key", "MentionIndex", "discover_characters", "scan_mentions"]
