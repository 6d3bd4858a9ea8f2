"""One copy of the weights, one llama context, one thread: the embedded runtime.

FIM, next edit and chat keep their own KV sequences in the one context (``FIM_SEQ``,
``EDIT_SEQ``, ``CHAT_SEQ``), so none evicts another's cached prompt and the weights and compute
buffers exist once. A single worker thread runs every job as a series of steps (one prompt
chunk or one token) and always takes the next step of a waiting FIM job first: a tab
completion waits at most one chat step, never a whole answer. Prompts are evaluated in chunks
with cancellation checked between them, so a superseded request stops mid-prompt instead of
holding the worker.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FIM_SEQ = 0
CHAT_SEQ = 1
EDIT_SEQ = 2
SPARE_SEQ = 3  # holds a shifted run while the text before it is decoded
N_SEQ = 4
LANES = ("fim", "edit", "chat")  # in priority order
PROMPT_CHUNK = 64  # tokens decoded between cancellation / FIM-priority checks (chat)
FIM_PROMPT_CHUNK = 512
"""FIM and next-edit prompts go in whole batches (10% faster than 64-token chunks on a CPU):
nothing outranks them, and a keystroke that supersedes one mid-prompt mostly needs the same
prefix, which stays in the KV."""
MIN_SHIFT_REUSE = 16  # shorter unchanged runs are decoded again rather than shifted

Step = Generator[None, None, None]


@dataclass
class Job:
    """A unit of work: ``steps`` is created on the worker thread and advanced one step at a
    time; ``fail`` reports an exception raised by a step."""

    lane: str
    start: Callable[[], Step]
    fail: Callable[[BaseException], None]
    steps: Step | None = field(default=None, repr=False)


class Engine:
    """Owns the llama.cpp model, context and batch; only the worker thread touches them."""

    def __init__(self, model: Any, ctx: Any, n_batch: int) -> None:
        import llama_cpp

        self._llama = llama_cpp
        self.model = model
        self.ctx = ctx
        self.n_ctx = llama_cpp.llama_n_ctx(ctx.ctx)
        self.n_vocab = model.n_vocab()
        self.vocab = model.vocab
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._n_batch = n_batch
        self._kv: list[list[int]] = [[] for _ in range(N_SEQ)]
        self._epoch = [0] * N_SEQ  # bumped when a sequence is evicted to make room
        # Where the comparable part of the last prompt in a sequence ends (before its last
        # token, whose logits every prompt recomputes); generated tokens follow it.
        self._run_end = [0] * N_SEQ
        self.evaluated = 0  # prompt/generated tokens actually decoded (KV reuse is measured)
        self.generated = 0
        self.drafted = 0  # prompt-lookup draft tokens checked, and those accepted
        self.accepted = 0
        self.running: collections.Counter[str] = collections.Counter()
        self._queues: dict[str, collections.deque[Job]] = {
            lane: collections.deque() for lane in LANES
        }
        self._cv = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._work, name="llama-engine", daemon=True)
        self._thread.start()

    # jobs -------------------------------------------------------------------------------------
    def submit(self, job: Job) -> None:
        with self._cv:
            if self._closing:
                raise RuntimeError("the engine is closed")
            self._queues[job.lane].append(job)
            self._cv.notify()

    def _next(self) -> Job | None:
        with self._cv:
            while not self._closing and not any(self._queues.values()):
                self._cv.wait()
            if self._closing:
                return None
            # FIM first: a waiting completion runs before the chat's next step.
            return next(queue[0] for queue in self._queues.values() if queue)

    def _work(self) -> None:
        while (job := self._next()) is not None:
            done = True
            try:
                if job.steps is None:
                    self.running[job.lane] += 1
                    job.steps = job.start()
                next(job.steps)
                done = False
            except StopIteration:
                pass
            except Exception as exc:  # llama.cpp errors surface as RuntimeError/ValueError
                job.fail(exc)
            if done:
                self.running[job.lane] -= 1
                with self._cv:
                    queue = self._queues[job.lane]
                    if queue and queue[0] is job:  # close() may have emptied it meanwhile
                        queue.popleft()

    def close(self) -> list[Job]:
        """Stop the worker after its current step; returns the jobs that never finished."""
        with self._cv:
            self._closing = True
            left = [job for queue in self._queues.values() for job in queue]
            for queue in self._queues.values():
                queue.clear()
            self._cv.notify_all()
        self._thread.join()
        for job in left:
            if job.steps is not None:
                job.steps.close()
        self._llama.llama_batch_free(self._batch)
        self.ctx.close()
        self.model.close()
        return left

    # tokens ------------------------------------------------------------------------------------
    def tokenize(self, text: str, special: bool) -> list[int]:
        """Safe from any thread: the vocabulary is read-only."""
        return self.model.tokenize(text.encode("utf-8", "replace"), False, special)

    def piece(self, token: int) -> bytes:
        return self.model.detokenize([token], special=False)

    def is_end(self, token: int) -> bool:
        return bool(self._llama.llama_vocab_is_eog(self.vocab, token))

    # evaluation (worker thread only) -----------------------------------------------------------
    def epoch(self, seq: int) -> int:
        return self._epoch[seq]

    def cached(self, seq: int) -> Sequence[int]:
        return self._kv[seq]

    def evaluate(
        self,
        seq: int,
        tokens: Sequence[int],
        cancelled: threading.Event,
        chunk: int = PROMPT_CHUNK,
    ) -> Generator[None, None, int | None]:
        """Bring ``seq``'s KV to ``tokens``, yielding between chunks; returns how many tokens
        were reused rather than decoded, or None when cancelled first.

        Reused: the common prefix, and (llama-server's ``--cache-reuse`` idea, extended to
        insertions) the unchanged run before the last token, whose KV entries are shifted to
        their new positions while only the changed middle is decoded. In a FIM prompt that run
        is the suffix, which otherwise every keystroke would re-evaluate. The shifted entries
        attended to the old middle when they were computed: an approximation llama-server
        makes too. llama.cpp wants each sequence's positions to grow one by one, so the run
        waits in ``SPARE_SEQ`` while the middle is decoded."""
        if cancelled.is_set():  # superseded while queued: leave the KV exactly as it is
            return None
        kv = self._kv[seq]
        epoch = self._epoch[seq]
        reuse = min(common_prefix(kv, tokens), len(tokens) - 1)  # the last token gives logits
        # The run is looked for where the previous prompt's run ended (before its last token):
        # what was generated after a prompt is never part of a new one.
        old_end = min(self._run_end[seq], len(kv))
        tail = self._shiftable_tail(kv[:old_end], tokens[:-1], reuse)
        new_start = len(tokens) - 1 - tail
        self._run_end[seq] = len(tokens) - 1
        if tail:
            self._park_tail(seq, old_end - tail, tail, new_start, reuse)
        elif reuse < len(kv):
            self._llama.llama_memory_seq_rm(self.ctx.memory, seq, reuse, -1)
            del kv[reuse:]
        parked = self._epoch[SPARE_SEQ]
        end = new_start if tail else len(tokens)  # what is decoded chunk by chunk
        chunk = min(chunk, self._n_batch)
        for start in range(reuse, end, chunk):
            if cancelled.is_set():
                self._keep_parked(seq, parked if tail else None)
                return None
            self.decode(seq, tokens[start : min(start + chunk, end)])
            if start + chunk >= end and not tail:
                break  # the prompt is in: no reason to let another job in before sampling
            yield
            if self._epoch[seq] != epoch:  # evicted by another lane meanwhile: redo
                self._clear(SPARE_SEQ)
                return (yield from self.evaluate(seq, tokens, cancelled, chunk))
        if tail:
            if cancelled.is_set():
                self._keep_parked(seq, parked)
                return None
            if self._epoch[SPARE_SEQ] == parked:
                self._llama.llama_memory_seq_cp(self.ctx.memory, SPARE_SEQ, seq, -1, -1)
                kv.extend(self._kv[SPARE_SEQ])
                self._clear(SPARE_SEQ)
                self.decode(seq, tokens[-1:])
            else:  # the parked run was evicted: decode it after all
                tail = 0
                self.decode(seq, tokens[new_start:])
        return reuse + tail

    def _keep_parked(self, seq: int, parked: int | None) -> None:
        """A cancelled evaluation: put the parked run back right after what was decoded, so
        the next prompt (most likely the next keystroke's) can shift it again."""
        kv = self._kv[seq]
        self._run_end[seq] = len(kv)
        if parked is None or self._epoch[SPARE_SEQ] != parked or not self._kv[SPARE_SEQ]:
            self._clear(SPARE_SEQ)
            return
        mem, run = self.ctx.memory, self._kv[SPARE_SEQ]
        start = int(self._llama.llama_memory_seq_pos_min(mem, SPARE_SEQ))
        if start != len(kv):
            self._llama.llama_memory_seq_add(
                mem, SPARE_SEQ, start, start + len(run), len(kv) - start
            )
        self._llama.llama_memory_seq_cp(mem, SPARE_SEQ, seq, -1, -1)
        kv.extend(run)
        self._run_end[seq] = len(kv)
        self._clear(SPARE_SEQ)

    def _park_tail(self, seq: int, old_start: int, tail: int, new_start: int, reuse: int) -> None:
        """Move ``seq``'s run at ``old_start`` to ``SPARE_SEQ`` at ``new_start``, and cut
        ``seq`` back to its first ``reuse`` tokens."""
        mem, kv = self.ctx.memory, self._kv[seq]
        self._clear(SPARE_SEQ)
        self._llama.llama_memory_seq_cp(mem, seq, SPARE_SEQ, old_start, old_start + tail)
        self._llama.llama_memory_seq_rm(mem, seq, reuse, -1)
        if new_start != old_start:
            self._llama.llama_memory_seq_add(
                mem, SPARE_SEQ, old_start, old_start + tail, new_start - old_start
            )
        self._kv[SPARE_SEQ] = kv[old_start : old_start + tail]
        del kv[reuse:]

    def _clear(self, seq: int) -> None:
        if self._kv[seq]:
            self._llama.llama_memory_seq_rm(self.ctx.memory, seq, -1, -1)
            self._kv[seq] = []

    def _shiftable_tail(self, kv: Sequence[int], tokens: Sequence[int], reuse: int) -> int:
        """Length of the run that ends both ``kv`` and ``tokens``, after the common prefix; 0
        when too short to be worth a shift, or shifts are impossible (some architectures)."""
        room = min(len(kv), len(tokens)) - reuse
        if room < MIN_SHIFT_REUSE or not self._llama.llama_memory_can_shift(self.ctx.memory):
            return 0
        old = np.asarray(kv[len(kv) - room :], np.int64)[::-1]
        new = np.asarray(tokens[len(tokens) - room :], np.int64)[::-1]
        differ = np.flatnonzero(old != new)
        run = int(differ[0]) if differ.size else room
        return run if run >= MIN_SHIFT_REUSE else 0

    def decode(self, seq: int, tokens: Sequence[int], all_logits: bool = False) -> None:
        """Append ``tokens`` to ``seq`` at the next positions; logits for the last one (for
        every one with ``all_logits``: a draft being checked)."""
        kv = self._kv[seq]
        start = len(kv)
        batch = self._batch
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = start + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq
            batch.logits[i] = all_logits
        batch.logits[len(tokens) - 1] = True
        code = self._llama.llama_decode(self.ctx.ctx, batch)
        if code == 1 and self._evict_others(seq):  # no free KV cell: the other lane yields
            code = self._llama.llama_decode(self.ctx.ctx, batch)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code}")
        kv.extend(tokens)
        self.evaluated += len(tokens)

    def _evict_others(self, seq: int) -> bool:
        evicted = False
        for other in range(N_SEQ):
            if other != seq and self._kv[other]:
                self._llama.llama_memory_seq_rm(self.ctx.memory, other, -1, -1)
                self._kv[other].clear()
                self._epoch[other] += 1
                evicted = True
        return evicted

    def truncate(self, seq: int, length: int) -> None:
        """Forget ``seq``'s positions from ``length`` on (a rejected draft)."""
        if length < len(self._kv[seq]):
            self._llama.llama_memory_seq_rm(self.ctx.memory, seq, length, -1)
            del self._kv[seq][length:]

    def logits_rows(self, rows: int) -> list[Any]:
        """Copies of the logits of the last decode's ``rows`` tokens (decoded with all_logits)."""
        return [
            np.ctypeslib.as_array(
                self._llama.llama_get_logits_ith(self.ctx.ctx, i), shape=(self.n_vocab,)
            ).copy()
            for i in range(rows)
        ]

    def logits(self) -> Any:
        """A copy of the last decoded token's logits (the buffer is reused by the next decode)."""
        pointer = self._llama.llama_get_logits_ith(self.ctx.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).copy()


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = np.flatnonzero(np.asarray(a[:n], np.int64) != np.asarray(b[:n], np.int64))
    return int(differ[0]) if differ.size else n


def load_engine(
    model_path: str,
    n_ctx: int,
    n_threads: int,
    n_gpu_layers: int,
    n_batch: int = 512,
) -> Engine:
    """Load the weights once and create the one context (raises ValueError/RuntimeError)."""
    import llama_cpp
    from llama_cpp._internals import LlamaContext, LlamaModel
    from llama_cpp._logger import set_verbose

    set_verbose(False)
    _init_backend(llama_cpp)
    model_params = llama_cpp.llama_model_default_params()
    model_params.n_gpu_layers = n_gpu_layers
    model = LlamaModel(path_model=model_path, params=model_params, verbose=False)
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = n_ctx
    params.n_batch = params.n_ubatch = min(n_batch, n_ctx)
    params.n_seq_max = N_SEQ
    params.kv_unified = True  # both lanes share n_ctx cells: one KV the size of one context
    # Only one job runs at a time, so the two counts never compete with each other. Prompt
    # evaluation gets the same count: on a busy 2-core machine 2 batch threads evaluated a
    # prompt 2.3x slower than 1 (llama-cpp-python defaults to all cores).
    params.n_threads = n_threads
    params.n_threads_batch = n_threads
    params.no_perf = True
    try:
        ctx = LlamaContext(model=model, params=params, verbose=False)
    except Exception:
        model.close()
        raise
    return Engine(model, ctx, params.n_batch)


_backend_ready = threading.Lock()
_backend_done = False


def _init_backend(llama_cpp: Any) -> None:
    global _backend_done
    with _backend_ready:
        if not _backend_done:
            llama_cpp.llama_backend_init()
            _backend_done = True
