using Strix.Runtime;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>
/// Exponential moving average of a model's state (Ultralytics' ModelEMA): after each optimizer step,
/// every floating-point entry of the state dict — parameters and BN running statistics — becomes
/// e ← d·e + (1 − d)·θ with d = decay·(1 − exp(−updates/tau)), so early updates follow the model
/// closely; integer buffers (num_batches_tracked) are copied. Validation and checkpoints use the average.
/// The average is kept as plain tensors with the model's state-dict names, so any module can have one.
/// </summary>
public sealed class ModelEma : IDisposable
{
    readonly Dictionary<string, Tensor> _state = new();

    public ModelEma(nn.Module model, double decay = 0.9999, double tau = 2000, long updates = 0)
    {
        Decay = decay;
        Tau = tau;
        Updates = updates;
        using var _ = no_grad();
        foreach (var (k, v) in model.state_dict()) _state[k] = v.clone(); // no_grad: no history
    }

    public double Decay { get; }
    public double Tau { get; }
    public long Updates { get; private set; }

    /// <summary>The averaged state (live tensors; do not dispose).</summary>
    public IReadOnlyDictionary<string, Tensor> State => _state;

    /// <summary>d for the n-th update.</summary>
    public double DecayAt(long updates) => Decay * (1 - Math.Exp(-updates / Tau));

    public void Update(nn.Module model)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope(); // holds the detached views until the ops that read them are done
        Updates++;
        double d = DecayAt(Updates);
        using var keep = d.ToScalar();          // explicit Scalars (see Strix.Runtime.Scalars)
        using var take = (1 - d).ToScalar();
        foreach (var (k, v) in model.state_dict())
        {
            if (!_state.TryGetValue(k, out var e)) throw new InvalidOperationException($"EMA has no entry '{k}': the model changed after the EMA was made");
            if (e.is_floating_point()) e.mul_(keep).add_(v.detach(), take);
            else e.copy_(v);
        }
    }

    /// <summary>Copies the average into <paramref name="model"/> (e.g. for export or validation).</summary>
    public void CopyTo(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (k, v) in model.state_dict()) v.copy_(_state[k]);
    }

    /// <summary>
    /// Temporarily swaps the average into <paramref name="model"/>; disposing the result puts the
    /// training weights back bit for bit. Used to validate with the EMA without a second model.
    /// </summary>
    public IDisposable SwapInto(nn.Module model)
    {
        var backup = new Dictionary<string, Tensor>();
        using (no_grad())
            foreach (var (k, v) in model.state_dict())
            {
                backup[k] = v.clone();
                v.copy_(_state[k]);
            }
        return new Restore(model, backup);
    }

    sealed class Restore(nn.Module model, Dictionary<string, Tensor> backup) : IDisposable
    {
        bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            using (no_grad())
                foreach (var (k, v) in model.state_dict()) v.copy_(backup[k]);
            foreach (var t in backup.Values) t.Dispose();
        }
    }

    /// <summary>Restores the average and update count (checkpoint resume).</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> state, long updates)
    {
        using var _ = no_grad();
        foreach (var (k, e) in _state)
        {
            if (!state.TryGetValue(k, out var v)) throw new InvalidDataException($"checkpoint EMA lacks '{k}'");
            e.copy_(v);
        }
        Updates = updates;
    }

    public JsonObject StateDict() => new() { ["updates"] = Updates, ["decay"] = Decay, ["tau"] = Tau };

    public void Dispose()
    {
        foreach (var t in _state.Values) t.Dispose();
        _state.Clear();
    }
}
