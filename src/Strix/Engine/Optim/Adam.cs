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
        stepT.add_(1);
        double step = stepT.item<double>();
        var m = state["exp_avg"];
        var v = state["exp_avg_sq"];
        double beta1 = group.Momentum;
        var g = grad;
        if (group.WeightDecay != 0)
        {
            if (Decoupled) p.mul_(1 - group.Lr * group.WeightDecay);
            else g = g.add(p, alpha: group.WeightDecay);
        }
        m.mul_(beta1).add_(g, alpha: 1 - beta1);
        v.mul_(Beta2).addcmul_(g, g, value: 1 - Beta2);
        double bc1 = 1 - Math.Pow(beta1, step);
        double bc2 = 1 - Math.Pow(Beta2, step);
        var denom = v.sqrt().div_(Math.Sqrt(bc2)).add_(Eps);
        p.addcdiv_(m, denom, value: -group.Lr / bc1);
    }
}
