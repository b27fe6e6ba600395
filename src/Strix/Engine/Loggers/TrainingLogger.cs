namespace Strix.Engine.Loggers;

/// <summary>
/// Receives metrics from the trainer: one row per epoch (train means, validation metrics, learning
/// rates) and, for values logged with on_step, one entry per optimizer step.
/// </summary>
public abstract class TrainingLogger : IDisposable
{
    /// <summary>The run's resolved arguments, once at the start.</summary>
    public virtual void LogHyperparams(IReadOnlyDictionary<string, object?> args) { }

    /// <summary>One epoch's metrics; <paramref name="epoch"/> is 1-based (Ultralytics' results.csv numbering).</summary>
    public abstract void LogEpoch(int epoch, IReadOnlyList<KeyValuePair<string, double>> metrics);

    /// <summary>Per-step values at global step <paramref name="step"/>.</summary>
    public virtual void LogStep(long step, IReadOnlyList<KeyValuePair<string, double>> metrics) { }

    /// <summary>A resumed run continues after <paramref name="epochsCompleted"/> epochs: drop anything logged past them.</summary>
    public virtual void OnResume(int epochsCompleted) { }

    /// <summary>Flushes and closes files.</summary>
    public virtual void Finish() { }

    public void Dispose() { Finish(); GC.SuppressFinalize(this); }
}
