using System.Text.Json.Nodes;

namespace Strix.Engine.Optim;

/// <summary>Where the loop is when a schedule is asked for the learning rate.</summary>
/// <param name="Iteration">Global batch index (Ultralytics' <c>ni = i + nb·epoch</c>).</param>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Epochs">Total epochs planned (may grow on resume or with a time budget).</param>
/// <param name="BatchesPerEpoch">Training batches per epoch (<c>nb</c>).</param>
public readonly record struct ScheduleStep(long Iteration, int Epoch, int Epochs, int BatchesPerEpoch);

/// <summary>
/// Sets each parameter group's learning rate (and momentum) before every training batch. Schedules are
/// functions of <see cref="ScheduleStep"/>, so resuming from any iteration reproduces the same values;
/// schedules with extra state save it through <see cref="StateDict"/>.
/// </summary>
public abstract class LrScheduler
{
    protected LrScheduler(Optimizer optimizer) { Optimizer = optimizer; }

    public Optimizer Optimizer { get; }

    /// <summary>Writes lr/momentum into the optimizer's groups for this batch.</summary>
    public abstract void Apply(ScheduleStep step);

    /// <summary>Batches to accumulate before an optimizer step at this iteration; null = the trainer's setting.</summary>
    public virtual int? AccumulateAt(ScheduleStep step) => null;

    public virtual JsonObject StateDict() => new();
    public virtual void LoadStateDict(JsonObject state) { }
}

/// <summary>Ultralytics' per-epoch learning-rate factors <c>lf(epoch)</c>.</summary>
public static class LrLambdas
{
    /// <summary>Linear decay from 1 to <paramref name="lrf"/>: (1 − e/E)·(1 − lrf) + lrf (clamped at lrf past E).</summary>
    public static double Linear(double epoch, int epochs, double lrf) =>
        Math.Max(1 - epoch / epochs, 0) * (1.0 - lrf) + lrf;

    /// <summary>Cosine "one cycle" from 1 to <paramref name="lrf"/>: ((1 − cos(πe/E))/2)·(lrf − 1) + 1.</summary>
    public static double Cosine(double epoch, int epochs, double lrf) =>
        Math.Max((1 - Math.Cos(epoch * Math.PI / epochs)) / 2, 0) * (lrf - 1) + 1;
}

/// <summary>lr = initial_lr · f(epoch, epochs) for every group (PyTorch's LambdaLR, per epoch).</summary>
public class LambdaLr : LrScheduler
{
    readonly Func<int, int, double> _factor;

    public LambdaLr(Optimizer optimizer, Func<int, int, double> factor) : base(optimizer) { _factor = factor; }

    /// <summary>The factor for an epoch of a run of <paramref name="epochs"/> epochs.</summary>
    public double Factor(int epoch, int epochs) => _factor(epoch, epochs);

    public override void Apply(ScheduleStep step)
    {
        double f = _factor(step.Epoch, step.Epochs);
        foreach (var g in Optimizer.ParamGroups) g.Lr = g.InitialLr * f;
    }
}
