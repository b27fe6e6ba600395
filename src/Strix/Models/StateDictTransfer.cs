using static TorchSharp.torch;

namespace Strix.Models;

/// <summary>
/// Copies named tensors into a model's state dict (parameters and buffers), converting dtype and
/// device to the model's. <see cref="Strict"/> is for our own files (everything must match);
/// <see cref="Matching"/> is for imports and fine-tuning, where what does not fit is reported.
/// </summary>
public static class StateDictTransfer
{
    /// <summary>The outcome of a lenient copy.</summary>
    public sealed record Result(
        IReadOnlyList<string> Loaded,
        IReadOnlyList<string> Unused,
        IReadOnlyList<string> Missing,
        IReadOnlyList<string> ShapeMismatches);

    /// <summary>
    /// Copies every tensor of <paramref name="source"/> into <paramref name="model"/>; any missing, unexpected
    /// or differently shaped tensor raises <see cref="InvalidDataException"/> naming it (and <paramref name="origin"/>).
    /// </summary>
    public static void Strict(TorchSharp.torch.nn.Module model, IReadOnlyDictionary<string, Tensor> source, string origin)
    {
        var target = model.state_dict();
        CheckStrict(target, source.ToDictionary(kv => kv.Key, kv => kv.Value.shape), origin);
        using (no_grad())
            foreach (var (name, t) in target) t.copy_(source[name]);
    }

    /// <summary>
    /// The check of <see cref="Strict"/> on names and shapes alone, so a file can be refused from its header
    /// before its tensors are read.
    /// </summary>
    public static void CheckStrict(IReadOnlyDictionary<string, Tensor> target, IReadOnlyDictionary<string, long[]> source, string origin)
    {
        var problems = new List<string>();
        var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).ToList();
        if (missing.Count > 0) problems.Add($"missing {missing.Count} tensor(s): {Preview(missing)}");
        if (unexpected.Count > 0) problems.Add($"unexpected {unexpected.Count} tensor(s): {Preview(unexpected)}");
        foreach (var (name, t) in target)
            if (source.TryGetValue(name, out var s) && !s.SequenceEqual(t.shape))
                problems.Add($"'{name}' has shape [{string.Join(", ", s)}], the model needs [{string.Join(", ", t.shape)}]");
        if (problems.Count > 0)
            throw new InvalidDataException($"{origin}: tensors do not match the model: {string.Join("; ", problems)}");
    }

    /// <summary>Copies the tensors whose name and shape match; reports the rest.</summary>
    public static Result Matching(TorchSharp.torch.nn.Module model, IEnumerable<KeyValuePair<string, Tensor>> source)
    {
        var target = model.state_dict();
        var loaded = new List<string>();
        var unused = new List<string>();
        var mismatched = new List<string>();
        var seen = new HashSet<string>();
        using (no_grad())
            foreach (var (name, s) in source)
            {
                seen.Add(name);
                if (!target.TryGetValue(name, out var t)) { unused.Add(name); continue; }
                if (!s.shape.SequenceEqual(t.shape))
                {
                    mismatched.Add($"{name}: [{string.Join(", ", s.shape)}] vs model [{string.Join(", ", t.shape)}]");
                    continue;
                }
                t.copy_(s);
                loaded.Add(name);
            }
        var loadedSet = loaded.ToHashSet();
        var missing = target.Keys.Where(k => !loadedSet.Contains(k)).ToList();
        return new Result(loaded, unused, missing, mismatched);
    }

    internal static string Preview(IReadOnlyList<string> names, int max = 8) =>
        string.Join(", ", names.Take(max)) + (names.Count > max ? $", … ({names.Count - max} more)" : "");
}
