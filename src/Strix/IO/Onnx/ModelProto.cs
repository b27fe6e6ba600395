using Google.Protobuf;
using Strix.IO;

namespace Strix.IO.Onnx;

/// <summary>
/// The top-level ONNX file: IR version, imported opsets, producer, the graph and metadata.
/// <see cref="Load"/> and <see cref="Save"/> read and (atomically) write .onnx files.
/// </summary>
public sealed class ModelProto : OnnxMessage
{
    public long IrVersion { get; set; }
    public List<OperatorSetIdProto> OpsetImport { get; } = new();
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public string Domain { get; set; } = "";
    public long ModelVersion { get; set; }
    public string DocString { get; set; } = "";
    public GraphProto? Graph { get; set; }
    public List<StringStringEntryProto> MetadataProps { get; } = new();

    /// <summary>The default-domain (ai.onnx) opset version, or 0 if none is imported.</summary>
    public long OnnxOpset => OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0;

    /// <summary>The metadata value for <paramref name="key"/>, or null.</summary>
    public string? GetMetadata(string key) => MetadataProps.LastOrDefault(p => p.Key == key)?.Value;

    /// <summary>Parses an .onnx file's bytes.</summary>
    public static ModelProto Parse(byte[] bytes) => Parse<ModelProto>(bytes);

    /// <summary>Reads an .onnx file; a file that is not an ONNX model gets a clear message naming it.</summary>
    public static ModelProto Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model '{path}' not found", path);
        ModelProto m;
        try { m = Parse(File.ReadAllBytes(path)); }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{path}' is not a valid ONNX model: {e.Message}", e);
        }
        if (m.Graph is null || m.IrVersion == 0)
            throw new InvalidDataException($"'{path}' is not a valid ONNX model: no graph or IR version");
        return m;
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically (temp file + rename).</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    public override void WriteTo(CodedOutputStream output)
    {
        Wire.Int64(output, 1, IrVersion);
        Wire.String(output, 2, ProducerName);
        Wire.String(output, 3, ProducerVersion);
        Wire.String(output, 4, Domain);
        if (ModelVersion != 0) Wire.Int64(output, 5, ModelVersion);
        Wire.String(output, 6, DocString);
        Wire.Message(output, 7, Graph);
        Wire.Messages(output, 8, OpsetImport);
        Wire.Messages(output, 14, MetadataProps);
    }

    public override int CalculateSize() =>
        Wire.Int64Size(1, IrVersion) + Wire.StringSize(2, ProducerName) + Wire.StringSize(3, ProducerVersion)
        + Wire.StringSize(4, Domain) + (ModelVersion != 0 ? Wire.Int64Size(5, ModelVersion) : 0) + Wire.StringSize(6, DocString)
        + Wire.MessageSize(7, Graph) + Wire.MessagesSize(8, OpsetImport) + Wire.MessagesSize(14, MetadataProps);

    protected override bool MergeField(CodedInputStream input, int field, WireFormat.WireType wire)
    {
        switch (field)
        {
            case 1: IrVersion = input.ReadInt64(); return true;
            case 2: ProducerName = input.ReadString(); return true;
            case 3: ProducerVersion = input.ReadString(); return true;
            case 4: Domain = input.ReadString(); return true;
            case 5: ModelVersion = input.ReadInt64(); return true;
            case 6: DocString = input.ReadString(); return true;
            case 7: Graph = Wire.ReadMessage<GraphProto>(input); return true;
            case 8: OpsetImport.Add(Wire.ReadMessage<OperatorSetIdProto>(input)); return true;
            case 14: MetadataProps.Add(Wire.ReadMessage<StringStringEntryProto>(input)); return true;
            default: return false;
        }
    }
}
