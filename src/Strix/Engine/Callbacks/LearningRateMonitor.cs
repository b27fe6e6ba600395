using System.Globalization;

namespace Strix.Engine.Callbacks;

/// <summary>
/// Logs each parameter group's learning rate as <c>lr/pg0</c>, <c>lr/pg1</c> … (Ultralytics' columns):
/// the value at the end of every epoch, and optionally every optimizer step (<c>logEveryStep</c>).
/// </summary>
public sealed class LearningRateMonitor : Callback
{
    public LearningRateMonitor(bool logEveryStep = false, bool logMomentum = false)
    {
        LogEveryStep = logEveryStep;
        LogMomentum = logMomentum;
    }

    public bool LogEveryStep { get; }
    public bool LogMomentum { get; }

    public override void OnTrainEpochEnd(Trainer trainer, StrixModule module) => Emit(trainer, onStep: false);

    public override void OnTrainBatchEnd(Trainer trainer, StrixModule module, double loss, object? batch, int batchIdx)
    {
        if (LogEveryStep) Emit(trainer, onStep: true);
    }

    void Emit(Trainer trainer, bool onStep)
    {
        var groups = trainer.Optimizer?.ParamGroups;
        if (groups is null) return;
        for (int i = 0; i < groups.Count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            trainer.Log($"lr/pg{n}", groups[i].Lr, onStep: onStep, onEpoch: !onStep);
            if (LogMomentum) trainer.Log($"momentum/pg{n}", groups[i].Momentum, onStep: onStep, onEpoch: !onStep);
        }
    }
}
