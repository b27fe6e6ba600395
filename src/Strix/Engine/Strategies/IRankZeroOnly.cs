namespace Strix.Engine.Strategies;

/// <summary>
/// Marks a callback that only rank 0 runs under a distributed strategy (it writes files or the
/// console: checkpoints, progress bars, plots). Callbacks that make decisions (early stopping) must
/// not carry it: every rank has to reach the same decision.
/// </summary>
public interface IRankZeroOnly { }
