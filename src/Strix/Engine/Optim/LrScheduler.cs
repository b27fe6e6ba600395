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

/// <summary>
/// YOLOv8's schedule: an iteration-based warm-up over nw = max(round(warmup_epochs·nb), 100) iterations
/// (none when warmup_epochs = 0) during which, by linear interpolation on [0, nw], the "bias" group's lr
/// falls from <c>warmup_bias_lr</c> to initial_lr·lf(epoch), the other groups' lr rise from 0 to it, SGD
/// momentum rises from <c>warmup_momentum</c> to <c>momentum</c>, and gradient accumulation rises from 1
/// to nbs/batch; then lr = initial_lr·lf(epoch) with <see cref="LrLambdas.Linear"/> or
/// <see cref="LrLambdas.Cosine"/>. Epoch e uses lf(e).
/// </summary>
public sealed class YoloLrScheduler : LambdaLr
{
    public YoloLrScheduler(Optimizer optimizer, double lrf, bool cosLr, double warmupEpochs, double warmupBiasLr,
        double warmupMomentum, double momentum, int nominalBatchSize, int batchSize)
        : base(optimizer, cosLr ? (e, n) => LrLambdas.Cosine(e, n, lrf) : (e, n) => LrLambdas.Linear(e, n, lrf))
    {
        WarmupEpochs = warmupEpochs;
        WarmupBiasLr = warmupBiasLr;
        WarmupMomentum = warmupMomentum;
        Momentum = momentum;
        NominalBatchSize = nominalBatchSize;
        BatchSize = batchSize;
    }

    public double WarmupEpochs { get; }
    public double WarmupBiasLr { get; }
    public double WarmupMomentum { get; }
    public double Momentum { get; }
    public int NominalBatchSize { get; }
    public int BatchSize { get; }

    /// <summary>Last warm-up iteration nw (−1: no warm-up).</summary>
    public long WarmupIterations(int batchesPerEpoch) =>
        WarmupEpochs > 0 ? Math.Max((long)Math.Round(WarmupEpochs * batchesPerEpoch), 100) : -1;

    public override void Apply(ScheduleStep step)
    {
        long nw = WarmupIterations(step.BatchesPerEpoch);
        double f = Factor(step.Epoch, step.Epochs);
        bool sgdMomentum = Optimizer is Sgd;
        foreach (var g in Optimizer.ParamGroups)
        {
            double target = g.InitialLr * f;
            if (step.Iteration <= nw)
            {
                g.Lr = Interp(step.Iteration, nw, g.Name == "bias" ? WarmupBiasLr : 0.0, target);
                if (sgdMomentum) g.Momentum = Interp(step.Iteration, nw, WarmupMomentum, Momentum);
            }
            else g.Lr = target;
        }
    }

    public override int? AccumulateAt(ScheduleStep step)
    {
        long nw = WarmupIterations(step.BatchesPerEpoch);
        double full = (double)NominalBatchSize / BatchSize;
        double a = step.Iteration <= nw ? Interp(step.Iteration, nw, 1, full) : full;
        return Math.Max(1, (int)Math.Round(a));
    }

    /// <summary>numpy.interp on [0, nw] → [y0, y1] (clamped; nw = 0 gives y1).</summary>
    static double Interp(long x, long nw, double y0, double y1) =>
        nw <= 0 ? y1 : y0 + (y1 - y0) * Math.Clamp((double)x / nw, 0, 1);
}
