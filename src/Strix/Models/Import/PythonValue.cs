using System.Globalization;
using System.Numerics;
using System.Text;
using Strix.Models.Import.Pickle;

namespace Strix.Models.Import;

/// <summary>
/// Python values as Ultralytics writes them into metadata: <see cref="Format"/> renders unpickled values as
/// CLI-style strings; <see cref="Parse"/> reads the Python literals (<c>str(dict)</c>, <c>str(list)</c>) that
/// Ultralytics' ONNX exports store in <c>metadata_props</c>, e.g. <c>{0: 'person', 1: 'bicycle'}</c>.
/// Parsing is literal-only (numbers, strings, True/False/None, lists, tuples, dicts): nothing is evaluated.
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
        PickleObject o => o.ToString(),
        _ => v.ToString() ?? "",
    };

    /// <summary>
    /// Parses a Python literal into: null, bool, long, double, string, <c>List&lt;object?&gt;</c> (lists and tuples)
    /// or <c>Dictionary&lt;object, object?&gt;</c>. Raises <see cref="FormatException"/> on anything else.
    /// </summary>
    public static object? Parse(string text)
    {
        int pos = 0;
        var v = ParseValue(text, ref pos);
        SkipSpace(text, ref pos);
        if (pos != text.Length) throw new FormatException($"unexpected '{text[pos]}' at position {pos} in Python literal");
        return v;
    }

    static object? ParseValue(string s, ref int p)
    {
        SkipSpace(s, ref p);
        if (p >= s.Length) throw new FormatException("unexpected end of Python literal");
        char c = s[p];
        if (c is '\'' or '"') return ParseString(s, ref p);
        if (c is '[' or '(') return ParseSequence(s, ref p, c == '[' ? ']' : ')');
        if (c == '{') return ParseDict(s, ref p);
        if (char.IsDigit(c) || c is '-' or '+' or '.') return ParseNumber(s, ref p);
        foreach (var (word, value) in new (string, object?)[] { ("True", true), ("False", false), ("None", null) })
            if (string.CompareOrdinal(s, p, word, 0, word.Length) == 0) { p += word.Length; return value; }
        throw new FormatException($"unexpected '{c}' at position {p} in Python literal");
    }

    static string ParseString(string s, ref int p)
    {
        char q = s[p++];
        var sb = new StringBuilder();
        while (p < s.Length && s[p] != q)
        {
            char c = s[p++];
            if (c != '\\') { sb.Append(c); continue; }
            if (p >= s.Length) break;
            char e = s[p++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'x': sb.Append((char)Convert.ToInt32(s.Substring(p, 2), 16)); p += 2; break;
                case 'u': sb.Append((char)Convert.ToInt32(s.Substring(p, 4), 16)); p += 4; break;
                case 'U': sb.Append(char.ConvertFromUtf32(Convert.ToInt32(s.Substring(p, 8), 16))); p += 8; break;
                default: sb.Append(e); break; // \\ \' \"
            }
        }
        if (p >= s.Length) throw new FormatException("unterminated string in Python literal");
        p++;
        return sb.ToString();
    }

    static object ParseNumber(string s, ref int p)
    {
        int start = p;
        while (p < s.Length && (char.IsLetterOrDigit(s[p]) || s[p] is '-' or '+' or '.' or '_')) p++;
        var tok = s[start..p].Replace("_", "");
        if (long.TryParse(tok, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (double.TryParse(tok, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        if (tok is "inf" or "-inf" or "nan") return tok == "nan" ? double.NaN : tok[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        throw new FormatException($"invalid number '{tok}' in Python literal");
    }

    static List<object?> ParseSequence(string s, ref int p, char close)
    {
        p++;
        var items = new List<object?>();
        while (true)
        {
            SkipSpace(s, ref p);
            if (p < s.Length && s[p] == close) { p++; return items; }
            items.Add(ParseValue(s, ref p));
            SkipSpace(s, ref p);
            if (p < s.Length && s[p] == ',') { p++; continue; }
            if (p < s.Length && s[p] == close) { p++; return items; }
            throw new FormatException($"expected ',' or '{close}' at position {p} in Python literal");
        }
    }

    static Dictionary<object, object?> ParseDict(string s, ref int p)
    {
        p++;
        var d = new Dictionary<object, object?>();
        while (true)
        {
            SkipSpace(s, ref p);
            if (p < s.Length && s[p] == '}') { p++; return d; }
            var key = ParseValue(s, ref p) ?? throw new FormatException("dict key None in Python literal");
            SkipSpace(s, ref p);
            if (p >= s.Length || s[p] != ':') throw new FormatException($"expected ':' at position {p} in Python literal");
            p++;
            d[key] = ParseValue(s, ref p);
            SkipSpace(s, ref p);
            if (p < s.Length && s[p] == ',') { p++; continue; }
            if (p < s.Length && s[p] == '}') { p++; return d; }
            throw new FormatException($"expected ',' or '}}' at position {p} in Python literal");
        }
    }

    static void SkipSpace(string s, ref int p)
    {
        while (p < s.Length && char.IsWhiteSpace(s[p])) p++;
    }
}
