using System.Runtime.InteropServices;
using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>
/// A serialised tensor (initializers, Constant values). Values live in <see cref="RawData"/>
/// (little-endian, what exporters usually write) or in one of the typed repeated fields;
/// <see cref="ToFloatArray"/> and <see cref="ToInt64Array"/> read either form.
/// </summary>
public sealed class TensorProto : OnnxMessage
{
    public List<long> Dims { get; } = new();
    public OnnxDataType DataType { get; set; }
    public List<float> FloatData { get; } = new();
    /// <summary>int32, int16, int8, uint16, uint8, bool and float16 (bit pattern) values.</summary>
    public List<long> Int32Data { get; } = new();
    public List<ByteString> StringData { get; } = new();
    public List<long> Int64Data { get; } = new();
    public string Name { get; set; } = "";
    public string DocString { get; set; } = "";
    /// <summary>Fixed-width little-endian element bytes, or null when a typed field is used.</summary>
    public ByteString? RawData { get; set; }
    public List<double> DoubleData { get; } = new();
    public List<ulong> UInt64Data { get; } = new();
    public List<StringStringEntryProto> ExternalData { get; } = new();
    /// <summary>0 = default (data inside the message), 1 = external file.</summary>
    public int DataLocation { get; set; }

    /// <summary>Number of elements (product of dims; 1 for a scalar).</summary>
    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);

    static void CheckLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian; big-endian hosts are not supported");
    }

    /// <summary>A float32 tensor stored as raw_data.</summary>
    public static TensorProto FromFloats(string name, IEnumerable<long> dims, ReadOnlySpan<float> values)
    {
        CheckLittleEndian();
        var t = new TensorProto { Name = name, DataType = OnnxDataType.Float };
        t.Dims.AddRange(dims);
        t.CheckCount(values.Length);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        return t;
    }

    /// <summary>A float16 tensor (values rounded to nearest even) stored as raw_data.</summary>
    public static TensorProto FromFloatsAsHalf(string name, IEnumerable<long> dims, ReadOnlySpan<float> values)
    {
        CheckLittleEndian();
        var t = new TensorProto { Name = name, DataType = OnnxDataType.Float16 };
        t.Dims.AddRange(dims);
        t.CheckCount(values.Length);
        var halves = new Half[values.Length];
        for (int i = 0; i < values.Length; i++) halves[i] = (Half)values[i];
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(halves.AsSpan()));
        return t;
    }

    /// <summary>An int64 tensor stored as raw_data.</summary>
    public static TensorProto FromInt64s(string name, IEnumerable<long> dims, ReadOnlySpan<long> values)
    {
        CheckLittleEndian();
        var t = new TensorProto { Name = name, DataType = OnnxDataType.Int64 };
        t.Dims.AddRange(dims);
        t.CheckCount(values.Length);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        return t;
    }

    void CheckCount(long n)
    {
        if (n != ElementCount)
            throw new ArgumentException($"tensor '{Name}': {n} values do not fill shape [{string.Join(", ", Dims)}] ({ElementCount} elements)");
    }

    void CheckInline()
    {
        if (DataLocation == 1 || ExternalData.Count > 0)
        {
            var loc = ExternalData.FirstOrDefault(e => e.Key == "location")?.Value ?? "?";
            throw new NotSupportedException($"tensor '{Name}' keeps its data in an external file ('{loc}'); external data is not supported");
        }
    }

    ReadOnlySpan<byte> Raw(long count)
    {
        var raw = RawData!.Span;
        long need = count * DataType.ElementSize();
        if (raw.Length != need)
            throw new InvalidDataException($"tensor '{Name}' ({DataType}, shape [{string.Join(", ", Dims)}]) has {raw.Length} bytes of raw_data, expected {need}");
        return raw;
    }

    /// <summary>The values as float32, from any floating type (float, float16, bfloat16, double) or integer type.</summary>
    public float[] ToFloatArray()
    {
        CheckInline();
        CheckLittleEndian();
        long n = ElementCount;
        if (RawData is not null && RawData.Length > 0 || n == 0)
        {
            if (n == 0) return Array.Empty<float>();
            var raw = Raw(n);
            return DataType switch
            {
                OnnxDataType.Float => MemoryMarshal.Cast<byte, float>(raw).ToArray(),
                OnnxDataType.Float16 => Convert(MemoryMarshal.Cast<byte, Half>(raw), h => (float)h),
                OnnxDataType.BFloat16 => Convert(MemoryMarshal.Cast<byte, ushort>(raw), b => BitConverter.Int32BitsToSingle(b << 16)),
                OnnxDataType.Double => Convert(MemoryMarshal.Cast<byte, double>(raw), d => (float)d),
                _ => ToInt64Array().Select(v => (float)v).ToArray(),
            };
        }
        float[] typed = DataType switch
        {
            OnnxDataType.Float => FloatData.ToArray(),
            OnnxDataType.Float16 => Int32Data.Select(v => (float)BitConverter.UInt16BitsToHalf((ushort)v)).ToArray(),
            OnnxDataType.BFloat16 => Int32Data.Select(v => BitConverter.Int32BitsToSingle((int)(v & 0xFFFF) << 16)).ToArray(),
            OnnxDataType.Double => DoubleData.Select(d => (float)d).ToArray(),
            _ => ToInt64Array().Select(v => (float)v).ToArray(),
        };
        if (typed.Length != n)
            throw new InvalidDataException($"tensor '{Name}' ({DataType}, shape [{string.Join(", ", Dims)}]) holds {typed.Length} values, expected {n}");
        return typed;
    }

    /// <summary>The values as int64, from any integer or bool type.</summary>
    public long[] ToInt64Array()
    {
        CheckInline();
        CheckLittleEndian();
        long n = ElementCount;
        if (RawData is not null && RawData.Length > 0)
        {
            var raw = Raw(n);
            return DataType switch
            {
                OnnxDataType.Int64 => MemoryMarshal.Cast<byte, long>(raw).ToArray(),
                OnnxDataType.Int32 => Convert(MemoryMarshal.Cast<byte, int>(raw), v => (long)v),
                OnnxDataType.UInt32 => Convert(MemoryMarshal.Cast<byte, uint>(raw), v => (long)v),
                OnnxDataType.Int16 => Convert(MemoryMarshal.Cast<byte, short>(raw), v => (long)v),
                OnnxDataType.UInt16 => Convert(MemoryMarshal.Cast<byte, ushort>(raw), v => (long)v),
                OnnxDataType.Int8 => Convert(MemoryMarshal.Cast<byte, sbyte>(raw), v => (long)v),
                OnnxDataType.UInt8 or OnnxDataType.Bool => Convert(raw, v => (long)v),
                OnnxDataType.UInt64 => Convert(MemoryMarshal.Cast<byte, ulong>(raw), v => (long)v),
                _ => throw new InvalidDataException($"tensor '{Name}' has type {DataType}, not an integer type"),
            };
        }
        long[] typed = DataType switch
        {
            OnnxDataType.Int64 => Int64Data.ToArray(),
            OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt16
                or OnnxDataType.UInt8 or OnnxDataType.Bool => Int32Data.ToArray(),
            OnnxDataType.UInt32 or OnnxDataType.UInt64 => UInt64Data.Select(v => (long)v).ToArray(),
            _ => throw new InvalidDataException($"tensor '{Name}' has type {DataType}, not an integer type"),
        };
        if (typed.Length != n)
            throw new InvalidDataException($"tensor '{Name}' ({DataType}, shape [{string.Join(", ", Dims)}]) holds {typed.Length} values, expected {n}");
        return typed;
    }

    static TOut[] Convert<TIn, TOut>(ReadOnlySpan<TIn> src, Func<TIn, TOut> f)
    {
        var r = new TOut[src.Length];
        for (int i = 0; i < r.Length; i++) r[i] = f(src[i]);
        return r;
    }

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.Int64s(output, 1, Dims);
        output.WriteTag(2, WireFormat.WireType.Varint);
        output.WriteInt32((int)DataType);
        Wire.PackedFloats(output, 4, FloatData);
        Wire.PackedVarints(output, 5, Int32Data, int32: true);
        foreach (var s in StringData) Wire.Bytes(output, 6, s);
        Wire.PackedVarints(output, 7, Int64Data);
        Wire.String(output, 8, Name);
        if (RawData is not null) Wire.Bytes(output, 9, RawData);
        Wire.PackedDoubles(output, 10, DoubleData);
        if (UInt64Data.Count > 0)
        {
            int n = UInt64Data.Sum(v => CodedOutputStream.ComputeUInt64Size(v));
            output.WriteTag(11, WireFormat.WireType.LengthDelimited);
            output.WriteLength(n);
            foreach (var v in UInt64Data) output.WriteUInt64(v);
        }
        Wire.String(output, 12, DocString);
        Wire.Messages(output, 13, ExternalData);
        if (DataLocation != 0) { output.WriteTag(14, WireFormat.WireType.Varint); output.WriteInt32(DataLocation); }
    }

    public override int CalculateSize()
    {
        int size = Wire.Int64sSize(1, Dims)
            + CodedOutputStream.ComputeTagSize(2) + CodedOutputStream.ComputeInt32Size((int)DataType)
            + Wire.PackedFloatsSize(4, FloatData)
            + Wire.PackedVarintsSize(5, Int32Data, int32: true)
            + StringData.Sum(s => Wire.BytesSize(6, s))
            + Wire.PackedVarintsSize(7, Int64Data)
            + Wire.StringSize(8, Name)
            + (RawData is not null ? Wire.BytesSize(9, RawData) : 0)
            + Wire.PackedDoublesSize(10, DoubleData)
            + Wire.StringSize(12, DocString)
            + Wire.MessagesSize(13, ExternalData)
            + (DataLocation != 0 ? CodedOutputStream.ComputeTagSize(14) + CodedOutputStream.ComputeInt32Size(DataLocation) : 0);
        if (UInt64Data.Count > 0)
        {
            int n = UInt64Data.Sum(v => CodedOutputStream.ComputeUInt64Size(v));
            size += CodedOutputStream.ComputeTagSize(11) + CodedOutputStream.ComputeLengthSize(n) + n;
        }
        return size;
    }

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Wire.ReadInt64s(input, wire, Dims); return true;
            case 2: DataType = (OnnxDataType)input.ReadInt32(); return true;
            case 4: Wire.ReadFloats(input, wire, FloatData); return true;
            case 5: Wire.ReadInt32s(input, wire, Int32Data); return true;
            case 6: StringData.Add(input.ReadBytes()); return true;
            case 7: Wire.ReadInt64s(input, wire, Int64Data); return true;
            case 8: Name = input.ReadString(); return true;
            case 9: RawData = input.ReadBytes(); return true;
            case 10: Wire.ReadDoubles(input, wire, DoubleData); return true;
            case 11: Wire.ReadUInt64s(input, wire, UInt64Data); return true;
            case 12: DocString = input.ReadString(); return true;
            case 13: ExternalData.Add(Wire.ReadMessage<StringStringEntryProto>(input)); return true;
            case 14: DataLocation = input.ReadInt32(); return true;
            default: return false;
        }
    }

    public override string ToString() => $"{Name}: {DataType}[{string.Join(", ", Dims)}]";
}
