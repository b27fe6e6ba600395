using Strix.Runtime;
using System.Text.Json.Nodes;
using Strix.Engine.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine.Precision;

/// <summary>
/// Dynamic loss scaling for fp16 training (PyTorch's GradScaler): the loss is multiplied by
/// <see cref="Scale"/> so small fp16 gradients do not underflow; <see cref="Unscale"/> divides the
/// gradients back (before clipping) and records whether any is Inf/NaN; <see cref="Step"/> skips the
/// optimizer step when one was; <see cref="Update"/> halves the scale after an overflow and doubles it
/// after <see cref="GrowthInterval"/> clean steps.
/// </summary>
public sealed class GradScaler
{
    bool _unscaled;
    bool _foundInf;

    public GradScaler(double initScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000)
    {
        if (growthFactor <= 1) throw new ArgumentOutOfRangeException(nameof(growthFactor), "growth factor must be > 1");
        if (backoffFactor >= 1 || backoffFactor <= 0) throw new ArgumentOutOfRangeException(nameof(backoffFactor), "backoff factor must be in (0, 1)");
        Scale = initScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
    }

    public double Scale { get; private set; }
    public double GrowthFactor { get; }
    public double BackoffFactor { get; }
    public int GrowthInterval { get; }
    /// <summary>Consecutive steps without overflow since the last scale change.</summary>
    public int GrowthTracker { get; private set; }
    /// <summary>Optimizer steps skipped because of Inf/NaN gradients.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>loss × scale (a new tensor).</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        using var s = Scale.ToScalar(); // explicit Scalar (see Strix.Runtime.Scalars)
        return loss.mul(s);
    }

    /// <summary>Divides every gradient by the scale and checks them for Inf/NaN. Idempotent per step.</summary>
    public void Unscale(Optimizer optimizer)
    {
        if (_unscaled) return;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var inv = (1.0 / Scale).ToScalar();
        Tensor? allFinite = null;
        foreach (var (_, p) in optimizer.NamedParameters)
        {
            var g = p.grad;
            if (g is null) continue;
            g.mul_(inv);
            var fin = isfinite(g).all();
            allFinite = allFinite is null ? fin : allFinite.logical_and(fin);
        }
        _foundInf = allFinite is not null && !allFinite.item<bool>();
        _unscaled = true;
    }

    /// <summary>True when the last <see cref="Unscale"/> saw an Inf/NaN gradient.</summary>
    public bool FoundInf => _foundInf;

    /// <summary>Unscales if needed, then steps the optimizer unless a gradient overflowed. Returns whether it stepped.</summary>
    public bool Step(Optimizer optimizer)
    {
        Unscale(optimizer);
        if (_foundInf) { SkippedSteps++; return false; }
        optimizer.Step();
        return true;
    }

    /// <summary>Adjusts the scale for the next iteration and resets the per-step state.</summary>
    public void Update()
    {
        if (!_unscaled) throw new InvalidOperationException("GradScaler.Update() called before Unscale()/Step() in this iteration");
        if (_foundInf)
        {
            Scale *= BackoffFactor;
            GrowthTracker = 0;
        }
        else if (++GrowthTracker >= GrowthInterval)
        {
            Scale *= GrowthFactor;
            GrowthTracker = 0;
        }
        _unscaled = false;
        _foundInf = false;
    }

    public JsonObject StateDict() => new()
    {
        ["scale"] = Scale, ["growth_factor"] = GrowthFactor, ["backoff_factor"] = BackoffFactor,
        ["growth_interval"] = GrowthInterval, ["growth_tracker"] = GrowthTracker, ["skipped_steps"] = SkippedSteps,
    };

    public void LoadStateDict(JsonObject s)
    {
        Scale = (double)s["scale"]!;
        GrowthTracker = (int)s["growth_tracker"]!;
        SkippedSteps = (long?)s["skipped_steps"] ?? 0;
    }
}
