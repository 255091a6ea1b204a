"""Tables of novelgraph: novels and chapters, the character graph, and the LLM work that builds it.

One package, one module per room: `common` (encoder, origins, modes), `novels`, `people` (the graph),
`work` (tasks and batch jobs), `passages` (search)."""

from graph.models.common import ERROR_CHARS, Mode, Origin, ReadableJSONEncoder, RelationType
from graph.models.novels import Chapter, Novel, NovelVersion
from graph.models.passages import Passage, VectorSpace
from graph.models.people import (
    Character,
    CharacterAttribute,
    CharacterQuerySet,
    IdentityDecision,
    Relation,
    RelationPhase,
)
from graph.models.work import (
    CLAIM_CANDIDATES,
    SETTLED,
    TO_SEND,
    UNANSWERED,
    BatchJob,
    BatchJobQuerySet,
    LLMTask,
    LLMTaskQuerySet,
)

__all__ = [
    "CLAIM_CANDIDATES", "ERROR_CHARS", "SETTLED", "TO_SEND", "UNANSWERED", "BatchJob",
    "BatchJobQuerySet", "Chapter", "Character", "CharacterAttribute", "CharacterQuerySet",
    "IdentityDecision", "LLMTask", "LLMTaskQuerySet", "Mode", "Novel", "NovelVersion", "Origin",
    "Passage", "ReadableJSONEncoder", "Relation", "RelationPhase", "RelationType", "VectorSpace",
]  # fmt: skip
