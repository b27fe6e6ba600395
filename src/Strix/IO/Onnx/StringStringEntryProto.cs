using Google.Protobuf;

namespace Strix.IO.Onnx;

/// <summary>A key/value pair (model metadata, external-data locations).</summary>
public sealed class StringStringEntryProto : OnnxMessage
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";

    public StringStringEntryProto() { }
    public StringStringEntryProto(string key, string value) { Key = key; Value = value; }

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.String(output, 1, Key);
        Wire.String(output, 2, Value);
    }

    public override int CalculateSize() => Wire.StringSize(1, Key) + Wire.StringSize(2, Value);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: Key = input.ReadString(); return true;
            case 2: Value = input.ReadString(); return true;
            default: return false;
        }
    }
}
