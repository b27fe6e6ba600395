using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace Strix.Models.Import.Pickle;

/// <summary>
/// The few globals whose calls the restricted unpickler interprets, because they only build data:
/// torch's tensor/parameter rebuild functions, OrderedDict, set/frozenset, <c>_codecs.encode</c>
/// (how protocol 2 pickles bytes), torch.Size and numpy scalars. They are matched by name and
/// evaluated here in C#; nothing of Python's is ever run. Every other call becomes an inert
/// <see cref="PickleObject"/>.
/// </summary>
static class DataConstructors
{
    public static object? Reduce(PickleGlobal f, PickleTuple args, RestrictedUnpickler u)
    {
        switch (f.Module, f.Name)
        {
            case ("torch._utils", "_rebuild_tensor"):
                return Tensor(args, 0, requiresGrad: false, u);
            case ("torch._utils", "_rebuild_tensor_v2"):
                return Tensor(args, 0, requiresGrad: args.Count > 4 && args[4] is true, u);
            case ("torch._utils", "_rebuild_tensor_v3"):
            {
                var t = Tensor(args, 0, requiresGrad: args.Count > 4 && args[4] is true, u);
                // v3 names the dtype explicitly (the storage may be untyped).
                if (args.Count > 6 && args[6] is PickleGlobal g && TorchDType(g) is { } dt && dt != t.DType)
                    t = t with { Storage = t.Storage with { DType = dt } };
                return t;
            }
            case ("torch._utils", "_rebuild_parameter"):
            case ("torch._utils", "_rebuild_parameter_with_state"):
            {
                var data = args.Count > 0 ? args[0] as TorchTensorRef : null;
                if (data is null) throw u.Error($"{f.FullName} without a tensor");
                return data with { IsParameter = true, RequiresGrad = args.Count > 1 && args[1] is true };
            }
            case ("torch._tensor", "_rebuild_from_type_v2"):
                // (func, type, args, state): a tensor subclass; rebuild the plain tensor with func.
                if (args.Count >= 3 && args[0] is PickleGlobal inner && args[2] is PickleTuple innerArgs)
                    return Reduce(inner, innerArgs, u);
                break;
            case ("collections", "OrderedDict"):
            {
                var d = new PickleDict();
                if (args.Count > 0 && args[0] is List<object?> pairs)
                    foreach (var p in pairs)
                        if (p is PickleTuple { Count: 2 } kv && kv[0] is { } k) d[k] = kv[1];
                return d;
            }
            case ("builtins" or "__builtin__", "set"):
            case ("builtins" or "__builtin__", "frozenset"):
            {
                var s = new PickleSet { Frozen = f.Name == "frozenset" };
                if (args.Count > 0 && args[0] is IEnumerable<object?> items) s.AddRange(items);
                return s;
            }
            case ("_codecs", "encode"):
                if (args.Count >= 1 && args[0] is string text)
                {
                    var enc = args.Count > 1 && args[1] is string e ? e.ToLowerInvariant() : "utf-8";
                    return enc is "latin1" or "latin-1" or "iso-8859-1" ? Encoding.Latin1.GetBytes(text) : Encoding.UTF8.GetBytes(text);
                }
                break;
            case ("torch", "Size"):
                if (args.Count == 1 && args[0] is PickleTuple dims) return dims;
                break;
            case ("numpy.core.multiarray" or "numpy._core.multiarray", "scalar"):
                if (NumpyScalar(args) is { } value) return value;
                break;
        }
        return new PickleObject(f, args, viaNewObj: false);
    }

    public static object? NewObject(PickleGlobal cls, PickleTuple args)
    {
        if (cls.Is("collections", "OrderedDict")) return new PickleDict();
        return new PickleObject(cls, args, viaNewObj: true);
    }

    /// <summary>(storage, storage_offset, size, stride, …) → a tensor view description.</summary>
    static TorchTensorRef Tensor(PickleTuple args, int first, bool requiresGrad, RestrictedUnpickler u)
    {
        if (args.Count < first + 4) throw u.Error("tensor rebuild with too few arguments");
        var storage = args[first] as TorchStorageRef ?? throw u.Error($"tensor rebuild without a storage ({RestrictedUnpickler.Describe(args[first])})");
        long offset = ToLong(args[first + 1], u);
        var size = Longs(args[first + 2], u);
        var stride = Longs(args[first + 3], u);
        if (size.Length != stride.Length) throw u.Error($"tensor size [{string.Join(", ", size)}] and stride [{string.Join(", ", stride)}] differ in rank");
        return new TorchTensorRef(storage, offset, size, stride, requiresGrad);
    }

    static long ToLong(object? v, RestrictedUnpickler u) => v is long l ? l : throw u.Error($"expected an int, got {RestrictedUnpickler.Describe(v)}");

    static long[] Longs(object? v, RestrictedUnpickler u) => v switch
    {
        PickleTuple t => t.Select(x => ToLong(x, u)).ToArray(),
        List<object?> l => l.Select(x => ToLong(x, u)).ToArray(),
        _ => throw u.Error($"expected a tuple of ints, got {RestrictedUnpickler.Describe(v)}"),
    };

    /// <summary>The element type of a legacy typed storage class such as <c>torch.HalfStorage</c>.</summary>
    public static ScalarType? StorageDType(PickleGlobal g) => g.Module is "torch" or "torch.cuda" ? g.Name switch
    {
        "HalfStorage" => ScalarType.Float16,
        "FloatStorage" => ScalarType.Float32,
        "DoubleStorage" => ScalarType.Float64,
        "BFloat16Storage" => ScalarType.BFloat16,
        "LongStorage" => ScalarType.Int64,
        "IntStorage" => ScalarType.Int32,
        "ShortStorage" => ScalarType.Int16,
        "CharStorage" => ScalarType.Int8,
        "ByteStorage" => ScalarType.Byte,
        "BoolStorage" => ScalarType.Bool,
        "UntypedStorage" => ScalarType.Byte,
        _ => null,
    } : null;

    /// <summary>A dtype global such as <c>torch.float16</c>.</summary>
    public static ScalarType? TorchDType(PickleGlobal g) => g.Module == "torch" ? g.Name switch
    {
        "float16" or "half" => ScalarType.Float16,
        "float32" or "float" => ScalarType.Float32,
        "float64" or "double" => ScalarType.Float64,
        "bfloat16" => ScalarType.BFloat16,
        "int64" or "long" => ScalarType.Int64,
        "int32" or "int" => ScalarType.Int32,
        "int16" or "short" => ScalarType.Int16,
        "int8" => ScalarType.Int8,
        "uint8" => ScalarType.Byte,
        "bool" => ScalarType.Bool,
        _ => null,
    } : null;

    /// <summary>numpy.core.multiarray.scalar(dtype, raw bytes) for little-endian floats and ints (metrics in checkpoints).</summary>
    static object? NumpyScalar(PickleTuple args)
    {
        if (args.Count != 2 || args[0] is not PickleObject { Type: { Name: "dtype" } } dtype || args[1] is not byte[] raw) return null;
        if (dtype.Args.Count < 1 || dtype.Args[0] is not string code) return null;
        // The dtype's BUILD state is (version, byteorder, …); '>' means big-endian.
        if (dtype.State is PickleTuple st && st.Count > 1 && st[1] is ">") return null;
        return (code, raw.Length) switch
        {
            ("f8", 8) => BinaryPrimitives.ReadDoubleLittleEndian(raw),
            ("f4", 4) => (double)BinaryPrimitives.ReadSingleLittleEndian(raw),
            ("i8", 8) => BinaryPrimitives.ReadInt64LittleEndian(raw),
            ("i4", 4) => (long)BinaryPrimitives.ReadInt32LittleEndian(raw),
            ("b1", 1) => raw[0] != 0,
            _ => null,
        };
    }
}
