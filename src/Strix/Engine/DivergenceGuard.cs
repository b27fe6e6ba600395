namespace Strix.Engine;

/// <summary>
/// The trainer's answer to non-finite losses and gradients: each such step is skipped with a warning;
/// after <c>tolerance</c> in a row the last good state (<see cref="LastGoodSnapshot"/>, taken at the start and
/// after every epoch) is restored; if that keeps failing without a single good step in between, training
/// stops with an error instead of looping forever.
/// </summary>
internal sealed class DivergenceGuard : IDisposable
{
    const int MaxRestoresWithoutProgress = 3;
    LastGoodSnapshot? _lastGood;
    int _restoresWithoutProgress;

    /// <summary>Non-finite steps in a row (saved in checkpoints).</summary>
    public int NonFinite { get; set; }

    public void Reset()
    {
        NonFinite = 0;
        _restoresWithoutProgress = 0;
        Dispose();
    }

    /// <summary>Remembers the state now as the last good one.</summary>
    public void Snapshot(Trainer trainer, StrixModule module, string description)
    {
        _lastGood?.Dispose();
        _lastGood = LastGoodSnapshot.Take(trainer, module, description);
    }

    /// <summary>A finite loss: the run of non-finite steps is over.</summary>
    public void OnFiniteLoss() => NonFinite = 0;

    /// <summary>An optimizer step was taken: restores are working.</summary>
    public void OnStepped() => _restoresWithoutProgress = 0;

    /// <summary>Counts a skipped step; returns true when it restored the last good state.</summary>
    public bool OnNonFinite(Trainer trainer, StrixModule module, string message, int tolerance)
    {
        NonFinite++;
        trainer.Warn(message);
        if (NonFinite < tolerance) return false;
        if (++_restoresWithoutProgress > MaxRestoresWithoutProgress)
            throw new InvalidOperationException($"training diverged: non-finite values persisted after {_restoresWithoutProgress - 1} restores of the last good weights");
        var snapshot = _lastGood ?? throw new InvalidOperationException("no good state to restore (the divergence guard had no snapshot)");
        snapshot.Restore(trainer, module);
        NonFinite = 0;
        trainer.Warn($"{tolerance} consecutive non-finite steps: restored the last good weights, EMA and optimizer state (from {snapshot.Description})");
        return true;
    }

    public void Dispose()
    {
        _lastGood?.Dispose();
        _lastGood = null;
    }
}
