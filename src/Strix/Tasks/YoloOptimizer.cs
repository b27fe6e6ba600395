using System.Globalization;
using Strix.Config;
using Strix.Engine;
using Strix.Engine.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tasks;

/// <summary>
/// Ultralytics' <c>build_optimizer</c> rules, shared by every task: three parameter groups, the nominal
/// batch (gradient accumulation and weight-decay scaling), <c>optimizer=auto</c>, and the warm-up schedule
/// (<see cref="YoloLrScheduler"/>).
/// </summary>
public static class YoloOptimizer
{
    /// <summary>
    /// Ultralytics' choice for <c>optimizer=auto</c>: SGD(lr 0.01, momentum 0.9) for more than 10 000
    /// iterations, else AdamW with lr = round(0.002·5/(4+nc), 6) and momentum 0.9.
    /// </summary>
    public static (string Name, double Lr, double Momentum) AutoOptimizer(long iterations, int nc) =>
        iterations > 10000 ? ("SGD", 0.01, 0.9) : ("AdamW", Math.Round(0.002 * 5 / (4 + nc), 6), 0.9);

    /// <summary>Ultralytics: accumulate = max(round(nbs/batch), 1); weight decay × batch·accumulate/nbs.</summary>
    public static (int Accumulate, double WeightDecay) NominalBatch(int batch, int nbs, double weightDecay)
    {
        int accumulate = Math.Max((int)Math.Round((double)nbs / batch), 1);
        return (accumulate, weightDecay * batch * accumulate / nbs);
    }

    /// <summary>
    /// YOLOv8's three groups in its order: pg0 biases (no decay; warm-up starts them at
    /// <c>warmup_bias_lr</c>), pg1 weights with <paramref name="weightDecay"/>, pg2 norm weights (no decay).
    /// </summary>
    public static List<ParamGroup> Groups(nn.Module model, double lr, double momentum, double weightDecay)
    {
        var s = ParameterGroups.Classify(model);
        return new List<ParamGroup>
        {
            new("bias", s.Biases, lr, momentum, 0.0),
            new("weight", s.Weights, lr, momentum, weightDecay),
            new("bn", s.NormWeights, lr, momentum, 0.0),
        };
    }

    /// <summary>
    /// The optimizer and schedule for <paramref name="model"/> under <paramref name="args"/> for a run of
    /// <paramref name="epochs"/> epochs over <paramref name="trainImages"/> images with <paramref name="nc"/> classes;
    /// writes Ultralytics' "optimizer:" lines to <paramref name="log"/>.
    /// </summary>
    public static OptimizerConfig Configure(nn.Module model, TrainConfig args, int trainImages, int epochs, int nc, TextWriter log)
    {
        int batch = args.Batch, nbs = args.Nbs;
        var (_, decay) = NominalBatch(batch, nbs, args.WeightDecay);
        long iterations = (long)Math.Ceiling((double)trainImages / Math.Max(batch, nbs)) * epochs;
        string name = args.Optimizer;
        double lr = args.Lr0, momentum = args.Momentum, warmupBiasLr = args.WarmupBiasLr;
        var inv = CultureInfo.InvariantCulture;
        if (name.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            (name, lr, momentum) = AutoOptimizer(iterations, nc);
            warmupBiasLr = 0.0; // no higher than lr0 for Adam
            log.WriteLine($"optimizer: 'optimizer=auto' found, ignoring 'lr0={args.Lr0.ToString(inv)}' and " +
                $"'momentum={args.Momentum.ToString(inv)}' and determining best 'optimizer', 'lr0' and 'momentum' automatically...");
        }
        var groups = Groups(model, lr, momentum, decay);
        var opt = ParameterGroups.Create(name, groups);
        var sched = new YoloLrScheduler(opt, args.Lrf, args.CosLr, args.WarmupEpochs, warmupBiasLr, args.WarmupMomentum, args.Momentum, nbs, batch);
        log.WriteLine(string.Create(inv,
            $"optimizer: {opt.Name}(lr={lr}, momentum={momentum}) with parameter groups {groups[2].Parameters.Count} weight(decay=0.0), " +
            $"{groups[1].Parameters.Count} weight(decay={decay}), {groups[0].Parameters.Count} bias(decay=0.0)"));
        return new OptimizerConfig(opt, sched);
    }
}
