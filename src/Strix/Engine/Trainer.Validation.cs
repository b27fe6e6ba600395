using Strix.Engine.Precision;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>The evaluation loop: one validation pass, inside a fit (every epoch) or on its own (<see cref="Validate{TBatch}"/>).</summary>
public sealed partial class Trainer
{
    /// <summary>
    /// Runs one validation pass (Lightning's <c>trainer.validate</c>): the module's validation hooks and
    /// the callbacks' validation hooks, in eval mode under no_grad, with the trainer's precision. Returns
    /// what the module logged.
    /// </summary>
    public IReadOnlyDictionary<string, double> Validate<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> val)
    {
        if (_module is not null) throw new InvalidOperationException("this trainer is already running");
        _module = module;
        module.Attach(this);
        try
        {
            Device = Strategy.ResolveDevice(Options.Device);
            PrecisionPlugin = PrecisionPlugin.For(Options.Precision);
            module.Model.to(Device);
            val = Strategy.ValSource(val); // DDP: this rank's whole batches; the module gathers the statistics
            int nv = val.Count;
            ValBatches = FastDevRun ? Math.Min(1, nv) : Options.LimitValBatches?.Apply(nv) ?? nv;
            Call(m => m.Setup("validate"), c => c.Setup(this, module, "validate"));
            ValidateEpoch(module, val);
            return _logged.Val.EpochValues().ToDictionary(kv => kv.Key, kv => kv.Value);
        }
        finally
        {
            try { Call(m => m.Teardown("validate"), c => c.Teardown(this, module, "validate")); }
            finally { Phase = TrainerPhase.Idle; _module = null; }
        }
    }

    void ValidateEpoch<TBatch>(StrixModule<TBatch> module, IBatchSource<TBatch> val)
    {
        Phase = TrainerPhase.Validate;
        _logged.Val.Clear();
        var model = module.Model;
        model.eval();
        try
        {
            using var swap = Ema?.SwapInto(model);
            using var noGrad = no_grad();
            Call(m => m.OnValidationStart(), c => c.OnValidationStart(this, module));
            Call(m => m.OnValidationEpochStart(), c => c.OnValidationEpochStart(this, module));
            bool owned = val is not IBorrowedBatches;
            using var it = val.GetEpoch(Options.OverfitBatches > 0 ? 0 : Epoch).GetEnumerator();
            for (int i = 0; i < ValBatches && it.MoveNext(); i++)
            {
                var raw = it.Current;
                var batch = module.TransferBatchToDevice(raw, Device);
                try
                {
                    module.OnValidationBatchStart(batch, i);
                    foreach (var c in ActiveCallbacks) c.OnValidationBatchStart(this, module, batch, i);
                    using (var scope = NewDisposeScope())
                    using (PrecisionPlugin.ForwardContext())
                        module.ValidationStep(batch, i);
                    module.OnValidationBatchEnd(batch, i);
                    foreach (var c in ActiveCallbacks) c.OnValidationBatchEnd(this, module, batch, i);
                }
                finally
                {
                    if (!ReferenceEquals(batch, raw)) (batch as IDisposable)?.Dispose();
                    if (owned) (raw as IDisposable)?.Dispose();
                }
            }
            Strategy.SyncMetrics(_logged.Val); // DDP: batch means over every rank's share
            Call(m => m.OnValidationEpochEnd(), c => c.OnValidationEpochEnd(this, module));
            Call(m => m.OnValidationEnd(), c => c.OnValidationEnd(this, module));
            _validatedThisEpoch = true;
        }
        finally
        {
            model.train();
            Phase = TrainerPhase.Train;
        }
    }
}
