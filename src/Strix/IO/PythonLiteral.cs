using System.Globalization;
using System.Text;

namespace Strix.IO;

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
    /// Parses class names from <c>{0: 'a', 1: "b"}</c> or <c>['a', 'b']</c>. Dict keys must be the
    /// ids 0..n−1 in any order; a gap or duplicate is an error (a detector's classes are dense).
    /// </summary>
    public static IReadOnlyList<string> ParseNames(string text)
    {
        var p = new Parser(text);
        p.SkipSpace();
        var byId = new Dictionary<int, string>();
        if (p.TryTake('['))
        {
            int i = 0;
            while (!p.TryTake(']'))
            {
                byId[i++] = p.ReadString();
                if (!p.TryTake(',')) { p.Expect(']'); break; }
            }
        }
        else
        {
            p.Expect('{');
            while (!p.TryTake('}'))
            {
                int id = p.ReadInt();
                p.Expect(':');
                var name = p.ReadString();
                if (!byId.TryAdd(id, name)) throw new FormatException($"class id {id} appears twice in names {Clip(text)}");
                if (!p.TryTake(',')) { p.Expect('}'); break; }
            }
        }
        p.ExpectEnd();
        var result = new string[byId.Count];
        foreach (var (id, name) in byId)
        {
            if (id < 0 || id >= result.Length) throw new FormatException($"class ids in names {Clip(text)} are not 0..{result.Length - 1}");
            result[id] = name;
        }
        return result;
    }

    /// <summary>Parses <c>[640, 640]</c>, <c>(640, 640)</c> or a bare <c>640</c>.</summary>
    public static int[] ParseIntList(string text)
    {
        var p = new Parser(text);
        p.SkipSpace();
        var list = new List<int>();
        char close = p.TryTake('[') ? ']' : p.TryTake('(') ? ')' : '\0';
        if (close == '\0') list.Add(p.ReadInt());
        else
            while (!p.TryTake(close))
            {
                list.Add(p.ReadInt());
                if (!p.TryTake(',')) { p.Expect(close); break; }
            }
        p.ExpectEnd();
        return list.ToArray();
    }

    static string Clip(string s) => s.Length > 60 ? s[..60] + "…" : s;

    sealed class Parser(string text)
    {
        int _pos;

        public void SkipSpace() { while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++; }

        public bool TryTake(char c)
        {
            SkipSpace();
            if (_pos < text.Length && text[_pos] == c) { _pos++; return true; }
            return false;
        }

        public void Expect(char c)
        {
            if (!TryTake(c)) throw Error($"expected '{c}'");
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_pos != text.Length) throw Error("unexpected text");
        }

        public int ReadInt()
        {
            SkipSpace();
            int start = _pos;
            if (_pos < text.Length && text[_pos] is '-' or '+') _pos++;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
            if (!int.TryParse(text.AsSpan(start, _pos - start), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
            {
                _pos = start;
                throw Error("expected an integer");
            }
            return v;
        }

        public string ReadString()
        {
            SkipSpace();
            if (_pos >= text.Length || text[_pos] is not ('\'' or '"')) throw Error("expected a quoted string");
            char q = text[_pos++];
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= text.Length) throw Error("unterminated string");
                char c = text[_pos++];
                if (c == q) return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                if (_pos >= text.Length) throw Error("unterminated string");
                char e = text[_pos++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case '0': sb.Append('\0'); break;
                    case 'x': sb.Append((char)Hex(2)); break;
                    case 'u': sb.Append((char)Hex(4)); break;
                    case 'U': sb.Append(char.ConvertFromUtf32(Hex(8))); break;
                    default: sb.Append(e); break; // \\ \' \" and unknown escapes keep the character
                }
            }
        }

        int Hex(int digits)
        {
            if (_pos + digits > text.Length || !int.TryParse(text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var v))
                throw Error("bad escape");
            _pos += digits;
            return v;
        }

        FormatException Error(string what) => new($"{what} at position {_pos} in {Clip(text)}");
    }
}
