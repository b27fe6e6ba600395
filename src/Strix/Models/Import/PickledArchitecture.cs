using System.Globalization;
using System.Text;
using Strix.Models.Architecture;
using Strix.Models.Import.Pickle;

namespace Strix.Models.Import;

/// <summary>
/// The architecture an Ultralytics checkpoint describes: its module tree carries the <c>yaml</c> dict it was built
/// from (rows, scales, scale, yaml_file). That dict is written back as model YAML text and read by
/// <see cref="ModelYaml"/>, so a user's custom architecture imports too; when the rows equal a built-in family's,
/// the built-in file is used, so the model keeps its family name.
/// </summary>
public static class PickledArchitecture
{
    /// <summary>The spec and scale of <paramref name="yaml"/>; null when the dict has no backbone/head rows.</summary>
    public static (ModelSpec Spec, YoloScale Scale)? Read(PickleDict? yaml, string path)
    {
        if (yaml?.GetValueOrDefault("backbone") is not IReadOnlyList<object?> || yaml.GetValueOrDefault("head") is not IReadOnlyList<object?>)
            return null;
        var stem = yaml.GetValueOrDefault("yaml_file") is string file ? Path.GetFileNameWithoutExtension(file) : "custom";
        ModelSpec spec;
        string? letter;
        try
        {
            (spec, letter) = ModelYaml.Parse(ToYaml(yaml), $"{path} (its yaml)", stem);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: the checkpoint's architecture cannot be built: {e.Message}", e);
        }
        var scaleName = yaml.GetValueOrDefault("scale") as string is { Length: > 0 } s && spec.Scales.ContainsKey(s) ? s : letter;
        var scale = spec.ScaleFor(scaleName);
        if (ModelCatalog.Families.Contains(spec.Name) && SameRows(spec, ModelCatalog.Builtin(spec.Name)))
            spec = ModelCatalog.Builtin(spec.Name);
        return (spec, scale);
    }

    /// <summary>True when two specs have the same rows (the builder's input; comments and scales aside).</summary>
    public static bool SameRows(ModelSpec a, ModelSpec b) =>
        a.InputChannels == b.InputChannels && a.Layers.Count == b.Layers.Count
        && a.Layers.Zip(b.Layers).All(p => Row(p.First) == Row(p.Second));

    static string Row(LayerSpec l) => $"{string.Join(",", l.From)}|{l.Repeats}|{l.Module}|{LayerFactory.Format(l.Args)}";

    /// <summary>The yaml dict as model YAML text (flow-style rows, Python literals).</summary>
    internal static string ToYaml(PickleDict yaml)
    {
        var sb = new StringBuilder();
        foreach (var key in new[] { "nc", "kpt_shape", "scale", "ch", "depth_multiple", "width_multiple" })
            if (yaml.GetValueOrDefault(key) is { } v) sb.Append(key).Append(": ").Append(Literal(v)).Append('\n');
        if (yaml.GetValueOrDefault("scales") is PickleDict scales && scales.Count > 0)
        {
            sb.Append("scales:\n");
            foreach (var (k, v) in scales) sb.Append("  ").Append(k).Append(": ").Append(Literal(v)).Append('\n');
        }
        foreach (var section in new[] { "backbone", "head" })
        {
            sb.Append(section).Append(":\n");
            foreach (var row in (IReadOnlyList<object?>)yaml[section]!)
            {
                if (row is not IReadOnlyList<object?> { Count: 4 } r)
                    throw new InvalidDataException($"the yaml's {section} has a row that is not [from, repeats, module, args]");
                sb.Append("  - [").Append(Literal(r[0])).Append(", ").Append(Literal(r[1])).Append(", ")
                  .Append(r[2] as string ?? throw new InvalidDataException($"the yaml's {section} names a module by {Literal(r[2])}"))
                  .Append(", ").Append(Literal(r[3])).Append("]\n");
            }
        }
        return sb.ToString();
    }

    static string Literal(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
        IEnumerable<object?> list => "[" + string.Join(", ", list.Select(Literal)) + "]",
        _ => throw new InvalidDataException($"the yaml holds a {RestrictedUnpickler.Describe(v)}, which a model file cannot"),
    };
}
