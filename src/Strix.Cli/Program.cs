Console.WriteLine("strix");
