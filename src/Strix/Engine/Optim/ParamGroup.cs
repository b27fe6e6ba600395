using TorchSharp.Modules;

namespace Strix.Engine.Optim;

/// <summary>
/// A set of parameters sharing hyper-parameters (PyTorch's <c>param_groups</c> entry). The scheduler
/// rewrites <see cref="Lr"/> and <see cref="Momentum"/> every iteration; <see cref="InitialLr"/> is the
/// base the schedule multiplies. Parameters carry their <c>state_dict</c> names so optimizer state can
/// be checkpointed by name and survive a rebuilt model.
/// </summary>
public sealed class ParamGroup
{
    public ParamGroup(string name, IEnumerable<(string Name, Parameter Param)> parameters, double lr, double momentum = 0, double weightDecay = 0)
    {
        Name = name;
        Parameters = parameters.ToList();
        Lr = InitialLr = lr;
        Momentum = momentum;
        WeightDecay = weightDecay;
        var dup = Parameters.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new ArgumentException($"parameter '{dup.Key}' appears twice in group '{name}'");
    }

    /// <summary>Role of the group ("weight", "bn", "bias" for YOLO; anything for other modules).</summary>
    public string Name { get; }
    public IReadOnlyList<(string Name, Parameter Param)> Parameters { get; }
    /// <summary>Current learning rate (set by the scheduler).</summary>
    public double Lr { get; set; }
    /// <summary>Base learning rate the schedule's factor multiplies (PyTorch's <c>initial_lr</c>).</summary>
    public double InitialLr { get; set; }
    /// <summary>SGD momentum, or Adam's β1 (Ultralytics passes momentum as β1).</summary>
    public double Momentum { get; set; }
    public double WeightDecay { get; set; }

    public override string ToString() => $"{Name}: {Parameters.Count} tensors, lr={Lr:g6}, momentum={Momentum:g4}, weight_decay={WeightDecay:g4}";
}
