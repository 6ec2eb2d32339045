// The example files gw carries in its binary (imported `with { type: "text" }`: their text).
declare module "*.example" {
  const text: string;
  export default text;
}
