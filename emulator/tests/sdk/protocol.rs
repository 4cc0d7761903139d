//! The wire format, checked with raw HTTP where the SDK would hide details.

use crate::common::*;

const CREATE: &str = "Action=CreateClientVpnEndpoint&Version=2016-11-15\
    &ClientCidrBlock=172.16.0.0%2F22\
    &ServerCertificateArn=arn%3Aaws%3Aacm%3Aus-east-1%3A123456789012%3Acertificate%2Fs\
    &Authentication.1.Type=certificate-authentication\
    &Authentication.1.MutualAuthentication.ClientRootCertificateChainArn=arn%3Aaws%3Aacm%3Aus-east-1%3A123456789012%3Acertificate%2Fc\
    &ConnectionLogOptions.Enabled=false";

#[tokio::test]
async fn success_has_request_id_in_header_and_body() {
    let emu = Emulator::start().await;
    let response = emu.query(CREATE).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("text/xml;charset=UTF-8")
    );
    let header_id = response.header("x-amzn-requestid").unwrap();
    assert_eq!(response.element("requestId"), Some(header_id));
    assert!(
        response
            .body
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    assert!(response.body.contains(
        "<CreateClientVpnEndpointResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
    ));
    assert!(
        response
            .body
            .ends_with("</CreateClientVpnEndpointResponse>")
    );
}

#[tokio::test]
async fn missing_authorization_is_auth_failure_401_in_the_ec2_envelope() {
    let emu = Emulator::start().await;
    let response = emu.raw("POST", "/", &[], CREATE).await;
    assert_eq!(response.status, 401);
    assert_eq!(response.element("Code"), Some("AuthFailure"));
    assert!(response.body.contains("<Response><Errors><Error><Code>"));
    let header_id = response.header("x-amzn-requestid").unwrap();
    assert_eq!(response.element("RequestID"), Some(header_id));
    assert_eq!(response.element("requestId"), None, "errors use RequestID");
    assert!(
        emu.calls().await.as_object().unwrap().is_empty(),
        "not counted"
    );

    let response = emu
        .raw(
            "POST",
            "/",
            &[("authorization", "AWS4-HMAC-SHA256 Signature=x")],
            CREATE,
        )
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.element("Code"), Some("IncompleteSignature"));
}

#[tokio::test]
async fn both_space_encodings_and_xml_escaping() {
    let emu = Emulator::start().await;
    let plus = emu
        .query(&format!("{CREATE}&Description=a+b%20c+%3C%26%3E"))
        .await;
    assert_eq!(plus.status, 200);
    let id = plus.element("clientVpnEndpointId").unwrap().to_owned();
    let describe = emu
        .query(&format!(
            "Action=DescribeClientVpnEndpoints&Version=2016-11-15&ClientVpnEndpointId.1={id}"
        ))
        .await;
    assert_eq!(describe.element("description"), Some("a b c &lt;&amp;&gt;"));
    let ec2 = emu.client().await;
    let ep = describe_endpoint(&ec2, &id).await;
    assert_eq!(ep.description(), Some("a b c <&>"));
}

#[tokio::test]
async fn action_and_parameter_errors() {
    let emu = Emulator::start().await;
    let cases = [
        ("Action=RunInstances&Version=2016-11-15", "InvalidAction"),
        ("Version=2016-11-15", "MissingAction"),
        ("Action=DescribeClientVpnEndpoints", "MissingParameter"),
        (
            "Action=DescribeClientVpnEndpoints&Version=2016-11-15&ClientVpnEndpointIds.1=x",
            "UnknownParameter",
        ),
        (
            "Action=CreateClientVpnEndpoint&Version=2016-11-15&SecurityGroupIds.1=sg-12345678",
            "UnknownParameter",
        ),
        (
            "Action=DescribeClientVpnEndpoints&Version=2016-11-15&DryRun=maybe",
            "InvalidParameterValue",
        ),
        (
            "Action=DescribeClientVpnEndpoints&Version=2016-11-15&MaxResults=ten",
            "InvalidParameterValue",
        ),
    ];
    for (body, expected) in cases {
        let response = emu.query(body).await;
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.element("Code"), Some(expected), "{body}");
    }
}

#[tokio::test]
async fn get_with_query_string_is_accepted() {
    let emu = Emulator::start().await;
    let response = emu
        .raw(
            "GET",
            "/?Action=DescribeClientVpnEndpoints&Version=2016-11-15",
            &[("authorization", &auth_header(ACCESS_KEY, REGION))],
            "",
        )
        .await;
    assert_eq!(response.status, 200);
    assert!(
        response
            .body
            .contains("<clientVpnEndpoint></clientVpnEndpoint>")
    );
}

#[tokio::test]
async fn create_tags_answers_return_true() {
    let emu = Emulator::start().await;
    let id = emu
        .query(CREATE)
        .await
        .element("clientVpnEndpointId")
        .unwrap()
        .to_owned();
    let response = emu
        .query(&format!(
            "Action=CreateTags&Version=2016-11-15&ResourceId.1={id}&Tag.1.Key=a&Tag.1.Value=b"
        ))
        .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.element("return"), Some("true"));
}
