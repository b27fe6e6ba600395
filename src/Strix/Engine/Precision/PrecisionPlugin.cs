using System.Text.Json.Nodes;
using Strix.Engine.Optim;
using Strix.Nn;
using static TorchSharp.torch;

namespace Strix.Engine.Precision;

/// <summary>What an optimizer step under a <see cref="PrecisionPlugin"/> did.</summary>
public enum StepOutcome
{
    /// <summary>The optimizer stepped.</summary>
    Stepped,
    /// <summary>fp16 loss scaling found inf/NaN gradients and skipped the step (routine: the scale backs off).</summary>
    SkippedByScaler,
    /// <summary>The gradient norm was not finite: the step was skipped and the trainer's divergence guard counts it.</summary>
    NonFiniteGradients,
}

/// <summary>
/// Everything precision changes in the loop, in one object (Lightning's precision plugin): the forward
/// context (autocast), the loss scaling before backward, unscaling before clipping, the guarded
/// optimizer step, and the state a checkpoint keeps. The <see cref="Trainer"/> calls these hooks and
/// has no precision branches of its own.
/// </summary>
public abstract class PrecisionPlugin
{
    /// <summary>The plugin for <paramref name="mode"/>: fp32, bf16 autocast, or fp16 autocast with a <see cref="GradScaler"/>.</summary>
    public static PrecisionPlugin For(PrecisionMode mode) => mode switch
    {
        PrecisionMode.Fp32 => new Fp32Precision(),
        PrecisionMode.Bf16Mixed => new MixedPrecision(mode, ScalarType.BFloat16, scaler: null),
        _ => new MixedPrecision(mode, ScalarType.Float16, new GradScaler()),
    };

    public abstract PrecisionMode Mode { get; }

    /// <summary>Entered around every training and validation forward pass; null when nothing changes.</summary>
    public virtual IDisposable? ForwardContext() => null;

    /// <summary>The tensor to call backward on (a scaled copy of the loss under fp16).</summary>
    public virtual Tensor ScaleLoss(Tensor loss) => loss;

    /// <summary>Brings gradients back to their true scale before clipping (fp16).</summary>
    public virtual void Unscale(Optimizer optimizer) { }

    /// <summary>Steps <paramref name="optimizer"/> unless the gradients are not finite; <paramref name="gradNorm"/> is the clipped total norm, when clipping.</summary>
    public virtual StepOutcome Step(Optimizer optimizer, Tensor? gradNorm)
    {
        if (gradNorm is not null)
        {
            using var scope = NewDisposeScope();
            if (!double.IsFinite(gradNorm.to(ScalarType.Float64).item<double>())) return StepOutcome.NonFiniteGradients;
        }
        optimizer.Step();
        return StepOutcome.Stepped;
    }

    /// <summary>State to checkpoint (the loss scale); null when there is none.</summary>
    public virtual JsonObject? StateDict() => null;

    /// <summary>Restores <see cref="StateDict"/>.</summary>
    public virtual void LoadStateDict(JsonObject state) { }
}

/// <summary><c>precision=32</c>: plain float32.</summary>
public sealed class Fp32Precision : PrecisionPlugin
{
    public override PrecisionMode Mode => PrecisionMode.Fp32;
}

/// <summary>
/// <c>bf16-mixed</c> / <c>fp16-mixed</c>: convolutions and linear layers run in the low dtype under
/// <see cref="Autocast"/>, weights and optimizer stay float32; fp16 also scales the loss so small
/// gradients survive, and lets the scaler skip overflowing steps.
/// </summary>
public sealed class MixedPrecision : PrecisionPlugin
{
    readonly ScalarType _dtype;

    public MixedPrecision(PrecisionMode mode, ScalarType dtype, GradScaler? scaler)
    {
        Mode = mode;
        _dtype = dtype;
        Scaler = scaler;
    }

    public override PrecisionMode Mode { get; }
    /// <summary>The fp16 loss scaler (null for bf16, whose range needs none).</summary>
    public GradScaler? Scaler { get; }

    public override IDisposable? ForwardContext() => Autocast.Enable(_dtype);
    public override Tensor ScaleLoss(Tensor loss) => Scaler?.ScaleLoss(loss) ?? loss;
    public override void Unscale(Optimizer optimizer) => Scaler?.Unscale(optimizer);

    public override StepOutcome Step(Optimizer optimizer, Tensor? gradNorm)
    {
        if (Scaler is null) return base.Step(optimizer, gradNorm);
        bool stepped = Scaler.Step(optimizer); // an overflow is routine with fp16: the scaler backs off
        Scaler.Update();
        return stepped ? StepOutcome.Stepped : StepOutcome.SkippedByScaler;
    }

    public override JsonObject? StateDict() => Scaler?.StateDict();
    public override void LoadStateDict(JsonObject state) => Scaler?.LoadStateDict(state);
}
