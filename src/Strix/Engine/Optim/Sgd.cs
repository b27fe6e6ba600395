using Strix.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Engine.Optim;

/// <summary>
/// Stochastic gradient descent with momentum and optional Nesterov momentum, exactly as
/// <c>torch.optim.SGD</c> (dampening 0): g ← g + λθ; b ← μb + g (b = g on the first step);
/// g ← g + μb (Nesterov) or g ← b; θ ← θ − ηg. YOLOv8 uses Nesterov.
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<ParamGroup> groups, bool nesterov = true) : base(groups) { Nesterov = nesterov; }

    public bool Nesterov { get; }
    public override string Name => "SGD";

    protected override void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        // Explicit Scalars held by `using` (see Strix.Runtime.Scalars: implicit ones can be freed mid-op).
        using var decay = group.WeightDecay.ToScalar();
        using var momentum = group.Momentum.ToScalar();
        using var step = (-group.Lr).ToScalar();
        var g = grad;
        if (group.WeightDecay != 0) g = g.add(p, decay);
        if (group.Momentum != 0)
        {
            if (!state.TryGetValue("momentum_buffer", out var buf))
                state["momentum_buffer"] = buf = g.clone(); // under no_grad: no history
            else
                buf.mul_(momentum).add_(g, Scalars.One);
            g = Nesterov ? g.add(buf, momentum) : buf;
        }
        p.add_(g, step);
    }
}
