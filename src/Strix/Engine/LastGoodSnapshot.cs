using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>
/// An in-memory copy of the last good state (weights, EMA, optimizer, precision plugin), taken at the start
/// of training and after every epoch, that the trainer's divergence guard restores after repeated
/// non-finite steps. The learning rate and momentum the schedule set for the current step are kept.
/// </summary>
internal sealed class LastGoodSnapshot : IDisposable
{
    readonly Dictionary<string, Tensor> _model = new(), _ema = new();
    Dictionary<string, Tensor> _optim = new();
    long _emaUpdates;
    JsonArray _groups = new();
    JsonObject? _precision;

    /// <summary>Where the state came from ("the end of epoch 3"), for the warning.</summary>
    public string Description { get; private init; } = "";

    public static LastGoodSnapshot Take(Trainer t, StrixModule module, string description)
    {
        var s = new LastGoodSnapshot { Description = description };
        using (no_grad())
        {
            foreach (var (k, v) in module.Model.state_dict()) s._model[k] = v.clone(); // no_grad: no history
            if (t.Ema is not null)
            {
                foreach (var (k, v) in t.Ema.State) s._ema[k] = v.clone();
                s._emaUpdates = t.Ema.Updates;
            }
            s._optim = t.Optimizer!.CloneState();
        }
        s._groups = t.Optimizer!.GroupsState();
        s._precision = t.PrecisionPlugin.StateDict();
        return s;
    }

    public void Restore(Trainer t, StrixModule module)
    {
        Trainer.LoadInto(module.Model, _model, "snapshot");
        if (t.Ema is not null) t.Ema.Load(_ema, _emaUpdates);
        var opt = t.Optimizer!;
        var lr = opt.ParamGroups.Select(g => (g.Lr, g.Momentum)).ToList();
        opt.LoadState(_groups, _optim);
        for (int i = 0; i < lr.Count; i++) { opt.ParamGroups[i].Lr = lr[i].Lr; opt.ParamGroups[i].Momentum = lr[i].Momentum; }
        if (_precision is not null) t.PrecisionPlugin.LoadStateDict(_precision);
    }

    public void Dispose()
    {
        foreach (var d in new[] { _model, _ema, _optim }) foreach (var v in d.Values) v.Dispose();
    }
}
