using System.Text.Json.Nodes;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Strix.Engine.Optim;

/// <summary>
/// Our own optimizer base (PyTorch semantics), so that every piece of state — momentum buffers,
/// Adam moments, step counts — is an ordinary tensor we can checkpoint by parameter name and restore
/// bit for bit. Parameters without a gradient are skipped, as in PyTorch.
/// </summary>
public abstract class Optimizer
{
    readonly List<ParamGroup> _groups;
    /// <summary>Per-parameter state tensors, keyed by parameter name then state name.</summary>
    protected readonly Dictionary<string, Dictionary<string, Tensor>> State = new();

    protected Optimizer(IEnumerable<ParamGroup> groups)
    {
        _groups = groups.ToList();
        if (_groups.Count == 0) throw new ArgumentException("an optimizer needs at least one parameter group");
        var seen = new HashSet<string>();
        foreach (var g in _groups)
            foreach (var (name, _) in g.Parameters)
                if (!seen.Add(name)) throw new ArgumentException($"parameter '{name}' is in more than one group");
    }

    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Optimizer name as Ultralytics prints it ("SGD", "AdamW", "Adam").</summary>
    public abstract string Name { get; }

    /// <summary>Every (name, parameter) of every group.</summary>
    public IEnumerable<(string Name, Parameter Param)> NamedParameters => _groups.SelectMany(g => g.Parameters);

    /// <summary>Applies one update from the current gradients.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        foreach (var g in _groups)
            foreach (var (name, p) in g.Parameters)
            {
                using var scope = NewDisposeScope();
                var grad = p.grad;
                if (grad is null) continue;
                if (!State.TryGetValue(name, out var st)) State[name] = st = new Dictionary<string, Tensor>();
                Update(g, p, grad, st);
                foreach (var t in st.Values) t.DetachFromDisposeScope(); // state outlives every scope
            }
    }

    /// <summary>Updates one parameter in place. New state tensors go into <paramref name="state"/>.</summary>
    protected abstract void Update(ParamGroup group, Parameter p, Tensor grad, Dictionary<string, Tensor> state);

    /// <summary>Clears gradients (sets them to None, PyTorch's default <c>set_to_none=True</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in NamedParameters)
        {
            var g = p.grad;
            if (g is null) continue;
            p.grad = null;
            g.Dispose();
        }
    }

    /// <summary>State tensors as <c>paramName/stateName</c> → tensor (live references; copy before mutating).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> StateTensors() =>
        State.OrderBy(kv => kv.Key, StringComparer.Ordinal)
             .SelectMany(kv => kv.Value.OrderBy(s => s.Key, StringComparer.Ordinal)
                 .Select(s => new KeyValuePair<string, Tensor>($"{kv.Key}/{s.Key}", s.Value)));

    /// <summary>Hyper-parameters of every group (lr, initial lr, momentum, decay) for checkpoints.</summary>
    public JsonArray GroupsState()
    {
        var a = new JsonArray();
        foreach (var g in _groups)
            a.Add(new JsonObject
            {
                ["name"] = g.Name, ["lr"] = g.Lr, ["initial_lr"] = g.InitialLr,
                ["momentum"] = g.Momentum, ["weight_decay"] = g.WeightDecay, ["params"] = g.Parameters.Count,
            });
        return a;
    }

    /// <summary>
    /// Restores group hyper-parameters and per-parameter state (copied onto each parameter's device).
    /// State for parameters this optimizer does not have is an error: a checkpoint of another model.
    /// </summary>
    public void LoadState(JsonArray groups, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        if (groups.Count != _groups.Count)
            throw new InvalidDataException($"checkpoint has {groups.Count} optimizer parameter groups, this optimizer has {_groups.Count}");
        for (int i = 0; i < groups.Count; i++)
        {
            var j = groups[i]!.AsObject();
            var g = _groups[i];
            if ((string?)j["name"] != g.Name || (int)j["params"]! != g.Parameters.Count)
                throw new InvalidDataException($"checkpoint optimizer group {i} is '{j["name"]}' with {j["params"]} tensors, expected '{g.Name}' with {g.Parameters.Count}");
            g.Lr = (double)j["lr"]!; g.InitialLr = (double)j["initial_lr"]!;
            g.Momentum = (double)j["momentum"]!; g.WeightDecay = (double)j["weight_decay"]!;
        }
        var byName = NamedParameters.ToDictionary(p => p.Name, p => p.Param);
        foreach (var st in State.Values) foreach (var t in st.Values) t.Dispose();
        State.Clear();
        foreach (var (key, t) in tensors)
        {
            int slash = key.LastIndexOf('/');
            if (slash <= 0) throw new InvalidDataException($"optimizer state key '{key}' is not 'param/state'");
            var pname = key[..slash];
            if (!byName.TryGetValue(pname, out var p))
                throw new InvalidDataException($"optimizer state for unknown parameter '{pname}'");
            if (!State.TryGetValue(pname, out var st)) State[pname] = st = new Dictionary<string, Tensor>();
            var stateName = key[(slash + 1)..];
            // Step counters stay on the CPU (read every step); moments live beside their parameter.
            using var scope = NewDisposeScope(); // holds the moved copy while clone reads it
            st[stateName] = (stateName == "step" ? t.cpu().clone() : t.to(p.device).clone()).DetachFromDisposeScope();
        }
    }

    /// <summary>Deep copy of the per-parameter state (for in-memory snapshots).</summary>
    internal Dictionary<string, Tensor> CloneState()
    {
        using var noGrad = no_grad();
        return StateTensors().ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
    }
}
