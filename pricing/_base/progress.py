"""The one progress protocol of long work: ``progress(done, total, label)``.

``done`` and ``total`` count the units of the work at hand (rows, batches, samples, charts);
``label`` says what is being done now. Callers draw a bar from it; ``None`` means silence.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]
