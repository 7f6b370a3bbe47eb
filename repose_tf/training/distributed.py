"""Multi-worker training outside ``Model.fit``: a loop that drives Keras callbacks itself.

Under Keras 3.15, ``Model.fit`` with ``tf.distribute.MultiWorkerMirroredStrategy`` and two real
worker processes fails: the distributed batches reach the train step as ``PerReplica`` values
(``ValueError``; upstream keras-team/keras#20585). Running ``model.train_step`` through
``strategy.run`` ourselves works: the optimizer all-reduces the gradients, so every worker holds
the same weights after every step. The loop speaks the callback protocol ``fit`` speaks (epoch =
``checkpoint_every`` steps), so the checkpointer, the NaN guard and the logs are the same objects
as on one machine.
"""

from __future__ import annotations

import contextlib

from repose_tf.training.errors import PeerLost


def fit_distributed(
    model,
    stream,
    strategy,
    *,
    epochs: int,
    initial_epoch: int,
    steps_per_epoch: int,
    callbacks: list,
    verbose: int = 1,
) -> None:
    """``model.fit(stream, epochs=..., initial_epoch=..., steps_per_epoch=...)`` under ``strategy``.

    ``stream`` is an infinite ``tf.data.Dataset`` of *global* batches; each worker's replicas get
    their share of every batch (``experimental_distribute_dataset``).
    """
    import keras
    import tensorflow as tf

    iterator = iter(strategy.experimental_distribute_dataset(stream))

    @tf.function(reduce_retracing=True)
    def one_step(it):
        logs = strategy.run(model.train_step, args=(next(it),))
        return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in logs.items()}

    cbs = keras.callbacks.CallbackList(
        callbacks,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps_per_epoch,
    )
    model.stop_training = False
    cbs.on_train_begin()
    logs: dict = {}
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        cbs.on_epoch_begin(epoch)
        for batch in range(steps_per_epoch):
            cbs.on_train_batch_begin(batch)
            logs = {k: float(v) for k, v in one_step(iterator).items()}
            cbs.on_train_batch_end(batch, logs)
            if model.stop_training:
                break
        cbs.on_epoch_end(epoch, dict(logs))
        if model.stop_training:
            break
    cbs.on_train_end(logs)


@contextlib.contextmanager
def peer_loss_as_error(strategy: str, checkpoint, state: dict):
    """Under ``multi_worker``, a collective op failing because a peer died becomes :class:`PeerLost`."""
    if strategy != "multi_worker":
        yield
        return
    import tensorflow as tf

    lost = (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.CancelledError,
            tf.errors.DeadlineExceededError, tf.errors.InternalError)  # fmt: skip
    try:
        yield
    except lost as e:
        first = (str(e).strip().splitlines() or [""])[0][:200]
        raise PeerLost(
            f"multi_worker: lost contact with another worker ({type(e).__name__}: {first}); the last "
            f"checkpoint is {checkpoint} (step {state.get('step', 0)}); start every worker "
            "again with --resume"
        ) from None


__all__ = ["fit_distributed", "peer_loss_as_error"]
