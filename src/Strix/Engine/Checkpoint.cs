using Strix.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace Strix.Engine;

/// <summary>
/// Everything needed to deploy or resume a run, stored as one safetensors file (atomic write).
/// Tensor names:
/// <list type="bullet">
/// <item><c>&lt;state-dict key&gt;</c> — the weights to deploy: the EMA when training kept one, else the
/// model. A checkpoint is therefore also a plain weights file (Python <c>safetensors</c> loads it).</item>
/// <item><c>train/model/&lt;key&gt;</c> — the raw training weights (only when they differ from the EMA).</item>
/// <item><c>train/optim/&lt;param&gt;/&lt;state&gt;</c> — optimizer state (momentum buffers, Adam moments);
/// <c>train/grad/&lt;param&gt;</c> — gradients accumulated but not yet applied; <c>train/rng/torch</c> —
/// the torch generator state. Only in resumable checkpoints (<c>last</c>).</item>
/// <item><c>extra/&lt;name&gt;</c> — tensors a module adds in <c>OnSaveCheckpoint</c>.</item>
/// </list>
/// Metadata (string → string): <c>checkpoint_format</c>, <c>checkpoint_version</c>, <c>trainer</c> (JSON: epoch, step,
/// counters, scheduler, scaler, EMA, C# RNG states, optimizer groups), <c>callbacks</c> (JSON by callback
/// key), <c>module</c> (JSON), <c>args</c> (JSON of the run's arguments), <c>created</c>, plus any string
/// entries a module adds to <see cref="Metadata"/> (a detection module adds the model metadata of a
/// Strix weight file, so <c>best</c> loads wherever a weights file does).
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string FormatName = "strix.checkpoint";
    public const int FormatVersion = 1;
    const string ModelPrefix = "train/model/", OptimPrefix = "train/optim/", GradPrefix = "train/grad/",
        RngKey = "train/rng/torch", ExtraPrefix = "extra/";
    static readonly string[] ReservedMeta = { "checkpoint_format", "checkpoint_version", "trainer", "callbacks", "module", "args", "created" };

    public Dictionary<string, Tensor> Weights { get; } = new();
    public Dictionary<string, Tensor>? ModelWeights { get; set; }
    public Dictionary<string, Tensor> OptimizerState { get; } = new();
    public Dictionary<string, Tensor> Gradients { get; } = new();
    public Dictionary<string, Tensor> Extra { get; } = new();
    public Tensor? TorchRngState { get; set; }
    public JsonObject Trainer { get; set; } = new();
    public JsonObject Callbacks { get; set; } = new();
    public JsonObject Module { get; set; } = new();
    public JsonObject? Args { get; set; }
    /// <summary>Additional string metadata (e.g. model scale, class names) readable without loading tensors.</summary>
    public Dictionary<string, string> Metadata { get; } = new();

    /// <summary>True when the file holds optimizer state and counters to continue training.</summary>
    public bool IsResumable => (bool?)Trainer["resumable"] ?? false;

    public void Save(string path)
    {
        var tensors = new List<KeyValuePair<string, Tensor>>();
        tensors.AddRange(Weights);
        if (ModelWeights is not null) tensors.AddRange(ModelWeights.Select(kv => KeyValuePair.Create(ModelPrefix + kv.Key, kv.Value)));
        tensors.AddRange(OptimizerState.Select(kv => KeyValuePair.Create(OptimPrefix + kv.Key, kv.Value)));
        tensors.AddRange(Gradients.Select(kv => KeyValuePair.Create(GradPrefix + kv.Key, kv.Value)));
        if (TorchRngState is not null) tensors.Add(KeyValuePair.Create(RngKey, TorchRngState));
        tensors.AddRange(Extra.Select(kv => KeyValuePair.Create(ExtraPrefix + kv.Key, kv.Value)));
        foreach (var k in Weights.Keys)
            if (k.StartsWith("train/", StringComparison.Ordinal) || k.StartsWith(ExtraPrefix, StringComparison.Ordinal))
                throw new ArgumentException($"weight name '{k}' collides with the checkpoint's reserved prefixes");
        var meta = new Dictionary<string, string>(Metadata)
        {
            ["checkpoint_format"] = FormatName,
            ["checkpoint_version"] = FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["trainer"] = Trainer.ToJsonString(),
            ["callbacks"] = Callbacks.ToJsonString(),
            ["module"] = Module.ToJsonString(),
            ["created"] = DateTimeOffset.Now.ToString("o"),
        };
        if (Args is not null) meta["args"] = Args.ToJsonString();
        foreach (var k in Metadata.Keys)
            if (ReservedMeta.Contains(k)) throw new ArgumentException($"metadata key '{k}' is reserved by the checkpoint format");
        Safetensors.Save(path, tensors, meta);
    }

    /// <summary>Reads a checkpoint; a plain safetensors weights file loads as weights only (not resumable).</summary>
    public static Checkpoint Load(string path)
    {
        using var contents = Safetensors.Load(path);
        var ck = new Checkpoint();
        try
        {
            var meta = contents.Metadata;
            if (meta.TryGetValue("checkpoint_format", out var fmt) && fmt == FormatName)
            {
                if (!int.TryParse(meta.GetValueOrDefault("checkpoint_version"), out var ver) || ver > FormatVersion)
                    throw new InvalidDataException($"{path}: checkpoint format version '{meta.GetValueOrDefault("checkpoint_version")}' is newer than this Strix reads ({FormatVersion})");
                ck.Trainer = ParseObject(meta, "trainer", path);
                ck.Callbacks = ParseObject(meta, "callbacks", path);
                ck.Module = ParseObject(meta, "module", path);
                if (meta.ContainsKey("args")) ck.Args = ParseObject(meta, "args", path);
            }
            foreach (var (k, v) in meta)
                if (!ReservedMeta.Contains(k)) ck.Metadata[k] = v;
            var loaded = contents.Tensors.ToList();
            contents.Tensors.Clear(); // the checkpoint owns them from here on
            foreach (var (name, owned) in loaded)
            {
                if (name.StartsWith(ModelPrefix, StringComparison.Ordinal)) (ck.ModelWeights ??= new())[name[ModelPrefix.Length..]] = owned;
                else if (name.StartsWith(OptimPrefix, StringComparison.Ordinal)) ck.OptimizerState[name[OptimPrefix.Length..]] = owned;
                else if (name.StartsWith(GradPrefix, StringComparison.Ordinal)) ck.Gradients[name[GradPrefix.Length..]] = owned;
                else if (name == RngKey) ck.TorchRngState = owned;
                else if (name.StartsWith(ExtraPrefix, StringComparison.Ordinal)) ck.Extra[name[ExtraPrefix.Length..]] = owned;
                else ck.Weights[name] = owned;
            }
        }
        catch { ck.Dispose(); throw; }
        return ck;
    }

    static JsonObject ParseObject(Dictionary<string, string> meta, string key, string path)
    {
        try
        {
            return JsonNode.Parse(meta.GetValueOrDefault(key) ?? "{}") as JsonObject
                ?? throw new InvalidDataException($"{path}: checkpoint metadata '{key}' is not a JSON object");
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: checkpoint metadata '{key}' is not valid JSON ({e.Message})", e); }
    }

    /// <summary>Disposes the tensors held (put <c>detach()</c>ed views of live tensors in, never the live ones).</summary>
    public void Dispose()
    {
        void D(IEnumerable<Tensor> ts) { foreach (var t in ts) t.Dispose(); }
        D(Weights.Values); if (ModelWeights is not null) D(ModelWeights.Values);
        D(OptimizerState.Values); D(Gradients.Values); D(Extra.Values);
        TorchRngState?.Dispose();
    }
}
