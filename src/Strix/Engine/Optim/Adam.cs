using Strix.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Engine.Optim;

/// <summary>
/// Adam and AdamW as <c>torch.optim.Adam</c>/<c>AdamW</c>: β1 is the group's <see cref="ParamGroup.Momentum"/>
/// (Ultralytics passes <c>betas=(momentum, 0.999)</c>), β2 = 0.999, ε = 1e-8. Adam adds λθ to the gradient
/// (L2); AdamW decays the weights directly (θ ← θ(1 − ηλ)) before the moment update.
/// </summary>
public sealed class Adam : Optimizer
{
    public Adam(IEnumerable<ParamGroup> groups, bool decoupledWeightDecay, double beta2 = 0.999, double eps = 1e-8) : base(groups)
    {
        Decoupled = decoupledWeightDecay;
        Beta2 = beta2;
        Eps = eps;
    }

    /// <summary>True for AdamW.</summary>
    public bool Decoupled { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    public override string Name => Decoupled ? "AdamW" : "Adam";

    protected override void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state)
    {
        if (!state.TryGetValue("step", out var stepT))
        {
            state["step"] = stepT = zeros(1, dtype: ScalarType.Float64);
            state["exp_avg"] = zeros_like(p);
            state["exp_avg_sq"] = zeros_like(p);
        }
        stepT.add_(Scalars.One, Scalars.One);
        double step = stepT.item<double>();
        var m = state["exp_avg"];
        var v = state["exp_avg_sq"];
        double beta1 = group.Momentum;
        double bc1 = 1 - Math.Pow(beta1, step);
        double bc2 = 1 - Math.Pow(Beta2, step);
        // Explicit Scalars held by `using` (see Strix.Runtime.Scalars: implicit ones can be freed mid-op).
        using var decay = group.WeightDecay.ToScalar();
        using var shrink = (1 - group.Lr * group.WeightDecay).ToScalar();
        using var b1 = beta1.ToScalar();
        using var oneMinusB1 = (1 - beta1).ToScalar();
        using var b2 = Beta2.ToScalar();
        using var oneMinusB2 = (1 - Beta2).ToScalar();
        using var sqrtBc2 = Math.Sqrt(bc2).ToScalar();
        using var eps = Eps.ToScalar();
        using var stepSize = (-group.Lr / bc1).ToScalar();
        var g = grad;
        if (group.WeightDecay != 0)
        {
            if (Decoupled) p.mul_(shrink);
            else g = g.add(p, decay);
        }
        m.mul_(b1).add_(g, oneMinusB1);
        v.mul_(b2).addcmul_(g, g, oneMinusB2);
        var denom = v.sqrt().div_(sqrtBc2).add_(eps, Scalars.One);
        p.addcdiv_(m, denom, stepSize);
    }
}
