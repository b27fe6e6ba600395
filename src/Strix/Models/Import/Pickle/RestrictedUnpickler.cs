using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Strix.Models.Import.Pickle;

/// <summary>
/// Reads Python pickles (protocols 0–5, as <c>torch.save</c> writes them) into plain data without ever
/// importing or calling anything. Python's own unpickler executes whatever callable a pickle names
/// (a checkpoint can run <c>os.system</c>); this one only recognises a short list of data constructors
/// (tensor rebuilds, OrderedDict, set, <c>_codecs.encode</c>, numpy scalars) and interprets them itself.
/// Every other global becomes an inert <see cref="PickleGlobal"/>, every object an inert
/// <see cref="PickleObject"/> holding its class name, arguments and state. Unknown or unsupported
/// opcodes raise <see cref="InvalidDataException"/> naming the opcode and its offset.
/// </summary>
public sealed class RestrictedUnpickler
{
    readonly byte[] _data;
    readonly string _source;
    readonly Func<object?, object?>? _persistentLoad;
    readonly Dictionary<long, object?> _memo = new();
    List<object?> _stack = new();
    readonly Stack<List<object?>> _marks = new();
    int _pos;

    /// <param name="data">The pickle bytes.</param>
    /// <param name="source">Name used in error messages (e.g. "yolov8n.pt:archive/data.pkl").</param>
    /// <param name="persistentLoad">Resolves persistent ids (torch storages); null refuses them.</param>
    public RestrictedUnpickler(byte[] data, string source, Func<object?, object?>? persistentLoad = null)
    {
        _data = data; _source = source; _persistentLoad = persistentLoad;
    }

    /// <summary>Unpickles <paramref name="data"/> into plain data (see <see cref="RestrictedUnpickler"/>).</summary>
    public static object? Load(byte[] data, string source = "pickle", Func<object?, object?>? persistentLoad = null) =>
        new RestrictedUnpickler(data, source, persistentLoad).Load();

    /// <summary>Runs the opcodes up to STOP and returns the top of the stack.</summary>
    public object? Load()
    {
        while (true)
        {
            if (_pos >= _data.Length) throw Error("pickle ends without a STOP opcode");
            int at = _pos;
            byte op = _data[_pos++];
            try
            {
                if (Step(op)) break;
            }
            catch (InvalidDataException) { throw; }
            catch (Exception e) when (e is InvalidCastException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException or InvalidOperationException)
            {
                throw new InvalidDataException($"{_source}: malformed pickle at opcode 0x{op:x2} (offset {at}): {e.Message}", e);
            }
        }
        if (_stack.Count != 1) throw Error($"pickle leaves {_stack.Count} values on the stack at STOP (expected 1)");
        return _stack[0];
    }

    /// <summary>Executes one opcode; true at STOP.</summary>
    bool Step(byte op)
    {
        switch (op)
        {
            // --- framing and protocol -------------------------------------------------------------------
            case 0x80: // PROTO
                int proto = ReadByte();
                if (proto > 5) throw Error($"unsupported pickle protocol {proto}");
                break;
            case 0x95: Skip(8); break; // FRAME: a length hint only
            case (byte)'.': return true; // STOP

            // --- stack manipulation ---------------------------------------------------------------------
            case (byte)'(': _marks.Push(_stack); _stack = new List<object?>(); break; // MARK: O(1), as CPython's metastack (a copy made repeated marks quadratic)
            case (byte)'0': Pop(); break; // POP
            case (byte)'1': PopMark(); break; // POP_MARK
            case (byte)'2': Push(Peek()); break; // DUP

            // --- memo -----------------------------------------------------------------------------------
            case (byte)'q': _memo[ReadByte()] = Peek(); break; // BINPUT
            case (byte)'r': _memo[ReadUInt32()] = Peek(); break; // LONG_BINPUT
            case (byte)'p': _memo[long.Parse(ReadLine(), CultureInfo.InvariantCulture)] = Peek(); break; // PUT
            case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
            case (byte)'h': Push(MemoGet(ReadByte())); break; // BINGET
            case (byte)'j': Push(MemoGet(ReadUInt32())); break; // LONG_BINGET
            case (byte)'g': Push(MemoGet(long.Parse(ReadLine(), CultureInfo.InvariantCulture))); break; // GET

            // --- constants ------------------------------------------------------------------------------
            case (byte)'N': Push(null); break; // NONE
            case 0x88: Push(true); break; // NEWTRUE
            case 0x89: Push(false); break; // NEWFALSE
            case (byte)'K': Push((long)ReadByte()); break; // BININT1
            case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
            case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
            case 0x8a: Push(LongFromBytes(Take(ReadByte()))); break; // LONG1
            case 0x8b: Push(LongFromBytes(Take(checked((int)ReadUInt32())))); break; // LONG4
            case (byte)'I': Push(ParseIntLine(ReadLine())); break; // INT
            case (byte)'L': Push(ParseLongLine(ReadLine())); break; // LONG
            case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
            case (byte)'F': Push(double.Parse(ReadLine(), NumberStyles.Float, CultureInfo.InvariantCulture)); break; // FLOAT

            // --- strings and bytes ----------------------------------------------------------------------
            case (byte)'X': Push(Encoding.UTF8.GetString(Take(checked((int)ReadUInt32())))); break; // BINUNICODE
            case 0x8c: Push(Encoding.UTF8.GetString(Take(ReadByte()))); break; // SHORT_BINUNICODE
            case 0x8d: Push(Encoding.UTF8.GetString(Take(checked((int)ReadUInt64())))); break; // BINUNICODE8
            case (byte)'V': Push(DecodeRawUnicodeEscape(ReadLine())); break; // UNICODE
            case (byte)'T': Push(Encoding.Latin1.GetString(Take(checked((int)ReadUInt32())))); break; // BINSTRING (py2 str)
            case (byte)'U': Push(Encoding.Latin1.GetString(Take(ReadByte()))); break; // SHORT_BINSTRING
            case (byte)'S': Push(ParseQuotedString(ReadLine())); break; // STRING
            case (byte)'B': Push(Take(checked((int)ReadUInt32())).ToArray()); break; // BINBYTES
            case (byte)'C': Push(Take(ReadByte()).ToArray()); break; // SHORT_BINBYTES
            case 0x8e: Push(Take(checked((int)ReadUInt64())).ToArray()); break; // BINBYTES8
            case 0x96: Push(Take(checked((int)ReadUInt64())).ToArray()); break; // BYTEARRAY8

            // --- containers -----------------------------------------------------------------------------
            case (byte)')': Push(PickleTuple.Empty); break; // EMPTY_TUPLE
            case 0x85: { var a = Pop(); Push(new PickleTuple(new[] { a })); break; } // TUPLE1
            case 0x86: { var b = Pop(); var a = Pop(); Push(new PickleTuple(new[] { a, b })); break; } // TUPLE2
            case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PickleTuple(new[] { a, b, c })); break; } // TUPLE3
            case (byte)'t': Push(new PickleTuple(PopMark().ToArray())); break; // TUPLE
            case (byte)']': Push(new List<object?>()); break; // EMPTY_LIST
            case (byte)'l': Push(PopMark()); break; // LIST
            case (byte)'}': Push(new PickleDict()); break; // EMPTY_DICT
            case (byte)'d': // DICT
            {
                var items = PopMark();
                var d = new PickleDict();
                SetItems(d, items);
                Push(d);
                break;
            }
            case 0x8f: Push(new PickleSet()); break; // EMPTY_SET
            case 0x91: { var s = new PickleSet { Frozen = true }; s.AddRange(PopMark()); Push(s); break; } // FROZENSET
            case (byte)'a': { var v = Pop(); Append(Peek(), new List<object?> { v }); break; } // APPEND
            case (byte)'e': { var items = PopMark(); Append(Peek(), items); break; } // APPENDS
            case 0x90: // ADDITEMS
            {
                var items = PopMark();
                if (Peek() is not PickleSet set) throw Error($"ADDITEMS on {Describe(Peek())}");
                set.AddRange(items);
                break;
            }
            case (byte)'s': { var v = Pop(); var k = Pop(); SetItems(Peek(), new List<object?> { k, v }); break; } // SETITEM
            case (byte)'u': { var items = PopMark(); SetItems(Peek(), items); break; } // SETITEMS

            // --- globals and objects (never executed) ---------------------------------------------------
            case (byte)'c': // GLOBAL
            {
                var module = ReadLine();
                var name = ReadLine();
                Push(new PickleGlobal(module, name));
                break;
            }
            case 0x93: // STACK_GLOBAL
            {
                var name = Pop() as string ?? throw Error("STACK_GLOBAL needs a str name");
                var module = Pop() as string ?? throw Error("STACK_GLOBAL needs a str module");
                Push(new PickleGlobal(module, name));
                break;
            }
            case (byte)'R': // REDUCE
            {
                var args = Pop() as PickleTuple ?? throw Error("REDUCE arguments are not a tuple");
                var callable = Pop() as PickleGlobal ?? throw Error("REDUCE on something that is not a global");
                Push(DataConstructors.Reduce(callable, args, this));
                break;
            }
            case 0x81: // NEWOBJ
            {
                var args = Pop() as PickleTuple ?? throw Error("NEWOBJ arguments are not a tuple");
                var cls = Pop() as PickleGlobal ?? throw Error("NEWOBJ on something that is not a global");
                Push(DataConstructors.NewObject(cls, args));
                break;
            }
            case 0x92: // NEWOBJ_EX
            {
                Pop(); // kwargs
                var args = Pop() as PickleTuple ?? throw Error("NEWOBJ_EX arguments are not a tuple");
                var cls = Pop() as PickleGlobal ?? throw Error("NEWOBJ_EX on something that is not a global");
                Push(DataConstructors.NewObject(cls, args));
                break;
            }
            case (byte)'i': // INST
            {
                var module = ReadLine();
                var name = ReadLine();
                Push(new PickleObject(new PickleGlobal(module, name), new PickleTuple(PopMark().ToArray()), viaNewObj: true));
                break;
            }
            case (byte)'o': // OBJ
            {
                var items = PopMark();
                if (items.Count == 0 || items[0] is not PickleGlobal cls) throw Error("OBJ without a class");
                Push(new PickleObject(cls, new PickleTuple(items.Skip(1).ToArray()), viaNewObj: true));
                break;
            }
            case (byte)'b': // BUILD
            {
                var state = Pop();
                Build(Peek(), state);
                break;
            }
            case (byte)'Q': Push(PersistentLoad(Pop())); break; // BINPERSID
            case (byte)'P': Push(PersistentLoad(ReadLine())); break; // PERSID

            case 0x82 or 0x83 or 0x84: throw Error($"unsupported pickle opcode EXT{(op == 0x82 ? 1 : op == 0x83 ? 2 : 4)} (extension registry) at offset {_pos - 1}");
            case 0x97 or 0x98: throw Error($"unsupported pickle opcode 0x{op:x2} (out-of-band buffer) at offset {_pos - 1}");
            default: throw Error($"unknown pickle opcode 0x{op:x2} at offset {_pos - 1}");
        }
        return false;
    }

    internal InvalidDataException Error(string message) => new($"{_source}: {message}");

    object? PersistentLoad(object? pid)
    {
        if (_persistentLoad is null) throw Error($"persistent id {Describe(pid)} but no persistent loader is given");
        return _persistentLoad(pid);
    }

    void Append(object? target, List<object?> items)
    {
        switch (target)
        {
            case List<object?> list: list.AddRange(items); break;
            case PickleObject obj: obj.ListItems.AddRange(items); break;
            default: throw Error($"APPEND to {Describe(target)}");
        }
    }

    void SetItems(object? target, List<object?> items)
    {
        if (items.Count % 2 != 0) throw Error("SETITEMS with an odd number of items");
        var dict = target switch
        {
            PickleDict d => d,
            PickleObject o => o.DictItems,
            _ => throw Error($"SETITEM on {Describe(target)}"),
        };
        for (int i = 0; i < items.Count; i += 2)
            dict[items[i] ?? throw Error("dict key None is not supported")] = items[i + 1];
    }

    void Build(object? target, object? state)
    {
        switch (target)
        {
            case PickleObject obj:
                if (obj.State is PickleDict existing && state is PickleDict more)
                    foreach (var (k, v) in more) existing[k] = v;
                else obj.State = state;
                break;
            case PickleDict dict when state is PickleDict attrs:
                // An OrderedDict subclass with attributes: keep them beside the items under their names.
                foreach (var (k, v) in attrs) dict[k] = v;
                break;
            case TorchTensorRef or PickleDict or null:
                // Python-level attributes on a tensor (or a None/dict state) carry no weights.
                break;
            default:
                throw Error($"BUILD on {Describe(target)}");
        }
    }

    internal static string Describe(object? v) => v switch
    {
        null => "None",
        PickleObject o => o.ToString(),
        PickleGlobal g => g.FullName,
        string s => $"'{s}'",
        _ => v.GetType().Name,
    };

    // --- stack helpers ------------------------------------------------------------------------------
    void Push(object? v) => _stack.Add(v);

    object? Pop()
    {
        if (_stack.Count == 0) throw Error($"stack underflow at offset {_pos - 1}");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    object? Peek()
    {
        if (_stack.Count == 0) throw Error($"stack underflow at offset {_pos - 1}");
        return _stack[^1];
    }

    /// <summary>Returns the items pushed since the last MARK and restores the stack below it.</summary>
    List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Error($"no MARK on the stack at offset {_pos - 1}");
        var items = _stack;
        _stack = _marks.Pop();
        return items;
    }

    object? MemoGet(long key) =>
        _memo.TryGetValue(key, out var v) ? v : throw Error($"memo key {key} is not defined (offset {_pos - 1})");

    // --- readers ------------------------------------------------------------------------------------
    ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || _pos + n > _data.Length) throw Error($"pickle truncated at offset {_pos} (needs {n} more bytes)");
        var s = new ReadOnlySpan<byte>(_data, _pos, n);
        _pos += n;
        return s;
    }

    void Skip(int n) => Take(n);
    int ReadByte() => Take(1)[0];
    uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0) throw Error($"pickle truncated at offset {_pos} (unterminated line)");
        var s = Encoding.Latin1.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s.EndsWith('\r') ? s[..^1] : s;
    }

    static object LongFromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return 0L;
        var big = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    static object ParseIntLine(string s) => s switch
    {
        "00" => false,
        "01" => true,
        _ => ParseLongLine(s),
    };

    static object ParseLongLine(string s)
    {
        s = s.TrimEnd('L');
        var big = BigInteger.Parse(s, CultureInfo.InvariantCulture);
        return big >= long.MinValue && big <= long.MaxValue ? (object)(long)big : big;
    }

    /// <summary>Protocol-0 STRING: a Python repr in single or double quotes with backslash escapes.</summary>
    string ParseQuotedString(string s)
    {
        if (s.Length < 2 || s[0] != s[^1] || (s[0] != '\'' && s[0] != '"')) throw Error($"malformed STRING {s}");
        var body = s[1..^1];
        var sb = new StringBuilder();
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c != '\\' || i + 1 >= body.Length) { sb.Append(c); continue; }
            char e = body[++i];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'x' when i + 2 < body.Length:
                    sb.Append((char)Convert.ToByte(body.Substring(i + 1, 2), 16)); i += 2; break;
                default: sb.Append('\\').Append(e); break;
            }
        }
        return sb.ToString();
    }

    static string DecodeRawUnicodeEscape(string s)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 5 < s.Length && s[i + 1] == 'u')
            {
                sb.Append((char)Convert.ToUInt16(s.Substring(i + 2, 4), 16)); i += 5;
            }
            else if (s[i] == '\\' && i + 9 < s.Length && s[i + 1] == 'U')
            {
                sb.Append(char.ConvertFromUtf32(Convert.ToInt32(s.Substring(i + 2, 8), 16))); i += 9;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
