using System.Globalization;
using System.Numerics;
using Strix.Models.Import.Pickle;

namespace Strix.Models.Import;

/// <summary>
/// Renders unpickled Python values (training arguments, checkpoint fields) as the CLI-style strings
/// Strix keeps in <see cref="ModelMetadata"/>. (Parsing Python literals from ONNX metadata is
/// <see cref="Strix.IO.PythonLiteral"/>'s job.)
/// </summary>
public static class PythonValue
{
    /// <summary>A CLI-style string: True → "true", None → "None", lists as [a, b].</summary>
    public static string Format(object? v) => v switch
    {
        null => "None",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        BigInteger bi => bi.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        string s => s,
        byte[] bytes => Convert.ToBase64String(bytes),
        PickleTuple t => "(" + string.Join(", ", t.Select(Format)) + ")",
        IEnumerable<object?> list => "[" + string.Join(", ", list.Select(Format)) + "]",
        PickleDict d => "{" + string.Join(", ", d.Select(kv => $"{Format(kv.Key)}: {Format(kv.Value)}")) + "}",
        PickleObject { Type.Module: "pathlib" } path => string.Join("/", path.Args.Select(Format)).Replace("//", "/"), // PosixPath('runs', 'train')
        PickleObject o => o.ToString(),
        _ => v.ToString() ?? "",
    };
}
