using System.Text;
using Strix.Models.Import;

namespace Strix.Export;

/// <summary>
/// The small subset of Python literal syntax that Ultralytics writes into model metadata:
/// class names as <c>{0: 'person', 1: 'bicycle'}</c> (Python's <c>str(dict)</c>) and sizes as
/// <c>[640, 640]</c>. Written and read here so our exports and Ultralytics' exports interoperate.
/// </summary>
public static class PythonLiteral
{
    /// <summary>Python's <c>repr</c> of a string: single quotes unless the text holds ' and no ".</summary>
    public static string Repr(string s)
    {
        char q = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(q);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == q) sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(((int)c).ToString("x2"));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append(q).ToString();
    }

    /// <summary>Class names as Python's <c>str({0: 'a', 1: 'b'})</c>.</summary>
    public static string NamesDict(IReadOnlyList<string> names) =>
        "{" + string.Join(", ", names.Select((n, i) => $"{i}: {Repr(n)}")) + "}";

    /// <summary>An int list as Python prints it: <c>[640, 640]</c>.</summary>
    public static string IntList(IEnumerable<int> values) => "[" + string.Join(", ", values) + "]";

    /// <summary>
    /// Parses class names from <c>{0: 'a', 1: "b"}</c> or <c>['a', 'b']</c> (via the literal-only
    /// <see cref="PythonValue.Parse"/>). Dict keys must be the ids 0..n−1 in any order; a gap is an
    /// error, since a detector's classes are dense.
    /// </summary>
    public static IReadOnlyList<string> ParseNames(string text)
    {
        switch (PythonValue.Parse(text))
        {
            case List<object?> list:
                return list.Select(v => v as string ?? throw new FormatException($"class name {PythonValue.Format(v)} in {Clip(text)} is not a string")).ToArray();
            case Dictionary<object, object?> dict:
                var result = new string[dict.Count];
                foreach (var (k, v) in dict)
                {
                    if (k is not long id || id < 0 || id >= result.Length)
                        throw new FormatException($"class ids in names {Clip(text)} are not 0..{result.Length - 1}");
                    result[id] = v as string ?? throw new FormatException($"class {id}'s name in {Clip(text)} is not a string");
                }
                return result;
            default:
                throw new FormatException($"names {Clip(text)} is neither a dict nor a list");
        }
    }

    /// <summary>Parses <c>[640, 640]</c>, <c>(640, 640)</c> or a bare <c>640</c>.</summary>
    public static int[] ParseIntList(string text)
    {
        static int Int(object? v, string text) => v is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l
            : throw new FormatException($"{PythonValue.Format(v)} in {Clip(text)} is not an integer");
        return PythonValue.Parse(text) switch
        {
            List<object?> list when list.Count > 0 => list.Select(v => Int(v, text)).ToArray(),
            var v => new[] { Int(v, text) },
        };
    }

    static string Clip(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
