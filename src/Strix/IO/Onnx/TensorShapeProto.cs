using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>A tensor's shape: each dimension is a fixed size, a symbolic name, or unknown.</summary>
public sealed class TensorShapeProto : OnnxMessage
{
    public List<Dimension> Dim { get; } = new();

    /// <summary>One dimension: <see cref="DimValue"/> or <see cref="DimParam"/> (a oneof), or neither when unknown.</summary>
    public sealed class Dimension : OnnxMessage
    {
        long? _value;
        string? _param;

        public Dimension() { }
        public static Dimension Fixed(long value) => new() { DimValue = value };
        public static Dimension Symbolic(string name) => new() { DimParam = name };

        public long? DimValue { get => _value; set { _value = value; if (value is not null) _param = null; } }
        public string? DimParam { get => _param; set { _param = value; if (value is not null) _value = null; } }
        public string Denotation { get; set; } = "";

        public override void WriteTo(CodedOutputStream output)
        {
            if (_value is long v) Wire.Int64(output, 1, v);
            if (_param is not null) { output.WriteTag(2, WireFormat.WireType.LengthDelimited); output.WriteString(_param); }
            Wire.String(output, 3, Denotation);
        }

        public override int CalculateSize() =>
            (_value is long v ? Wire.Int64Size(1, v) : 0)
            + (_param is not null ? CodedOutputStream.ComputeTagSize(2) + CodedOutputStream.ComputeStringSize(_param) : 0)
            + Wire.StringSize(3, Denotation);

        protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
        {
            switch (field)
            {
                case 1: DimValue = input.ReadInt64(); return true;
                case 2: DimParam = input.ReadString(); return true;
                case 3: Denotation = input.ReadString(); return true;
                default: return false;
            }
        }

        public override string ToString() => _value?.ToString() ?? _param ?? "?";
    }

    public TensorShapeProto() { }

    /// <summary>A shape from sizes; a negative size becomes a symbolic dimension named by <paramref name="symbols"/> (or unknown).</summary>
    public TensorShapeProto(IEnumerable<long> dims, IReadOnlyList<string?>? symbols = null)
    {
        int k = 0;
        foreach (var d in dims)
        {
            var sym = symbols is not null && k < symbols.Count ? symbols[k] : null;
            Dim.Add(sym is not null ? Dimension.Symbolic(sym) : d >= 0 ? Dimension.Fixed(d) : new Dimension());
            k++;
        }
    }

    public override void WriteTo(CodedOutputStream output) => Wire.Messages(output, 1, Dim);
    public override int CalculateSize() => Wire.MessagesSize(1, Dim);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        if (field != 1) return false;
        Dim.Add(Wire.ReadMessage<Dimension>(input));
        return true;
    }

    public override string ToString() => "[" + string.Join(", ", Dim) + "]";
}
