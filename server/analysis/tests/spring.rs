//! Spring Boot at the structure level, Maven and Gradle alike: stack
//! detection from pom.xml / build.gradle(.kts), Actuator health, Flyway and
//! Liquibase migrations, tests under src/test/java, CI running them,
//! Dockerfile hygiene, Gradle dependency locking, and the application
//! settings that matter in production (ddl-auto, SQLite, DEBUG, stack
//! traces, Swagger UI). Code-level checks do not apply to Java.

mod common;

use common::{assert_fails_at, assert_passes, findings, outcome, scan_files as scan};
use shipshape_analysis::{Outcome, Report};

fn pom(artifacts: &[&str]) -> String {
    let deps: Vec<String> = artifacts
        .iter()
        .map(|a| {
            let group = if a.starts_with("spring-boot") { "org.springframework.boot" } else { "org.example" };
            format!("    <dependency>\n      <groupId>{group}</groupId>\n      <artifactId>{a}</artifactId>\n    </dependency>")
        })
        .collect();
    format!(
        "<project>\n  <modelVersion>4.0.0</modelVersion>\n  <artifactId>petstore</artifactId>\n  <dependencies>\n{}\n  </dependencies>\n</project>\n",
        deps.join("\n")
    )
}

const APP: &str = "package com.example;\n\n@SpringBootApplication\npublic class App {\n  public static void main(String[] args) { SpringApplication.run(App.class, args); }\n}\n";
const TEST: &str = "package com.example;\n\n@SpringBootTest\nclass AppTests {\n  @Test\n  void contextLoads() {}\n}\n";

fn maven(artifacts: &[&str], files: &[(&str, &str)]) -> Report {
    let p = pom(artifacts);
    let mut all = vec![("pom.xml", p.as_str()), ("src/main/java/com/example/App.java", APP)];
    all.extend_from_slice(files);
    scan(&all)
}

#[track_caller]
fn assert_missing(report: &Report, id: &str) {
    let f = findings(report, id);
    assert_eq!(outcome(report, id), Outcome::Fail, "{id} should fail");
    assert!(f.len() == 1 && f[0].location.is_none(), "{id}: {f:#?}");
}

#[test]
fn stack_from_pom_and_gradle_kotlin_dsl() {
    let r = maven(&["spring-boot-starter-web", "spring-boot-starter-data-jpa", "postgresql"], &[]);
    assert_eq!(r.stack.frameworks, vec!["spring-boot"]);
    assert_eq!(r.stack.orms, vec!["jpa"]);
    assert!(r.stack.languages.contains_key("Java"));
    let kts = "plugins {\n  id(\"org.springframework.boot\") version \"3.3.0\"\n}\ndependencies {\n  implementation(\"org.springframework.boot:spring-boot-starter-webflux\")\n  implementation(\"org.springframework.boot:spring-boot-starter-actuator\")\n}\n";
    let r = scan(&[("build.gradle.kts", kts), ("src/main/kotlin/App.kt", "fun main() {}\n")]);
    assert_eq!(r.stack.frameworks, vec!["spring-boot"]);
    assert_passes(&r, "health-endpoint-missing");
    // Code-level checks are not run on Java: not applicable, never a silent pass.
    for id in ["cors-wildcard", "sql-injection-risk", "swallowed-exceptions"] {
        assert_eq!(outcome(&r, id), Outcome::NotApplicable, "{id}");
    }
    assert_eq!(outcome(&r, "no-graceful-shutdown"), Outcome::NotApplicable);
}

#[test]
fn health_needs_actuator_or_a_health_mapping() {
    assert_passes(&maven(&["spring-boot-starter-web", "spring-boot-starter-actuator"], &[]), "health-endpoint-missing");
    assert_missing(&maven(&["spring-boot-starter-web"], &[]), "health-endpoint-missing");
    let controller = "@RestController\nclass HealthController {\n  @GetMapping(\"/health\")\n  String health() { return \"ok\"; }\n}\n";
    let r = maven(&["spring-boot-starter-web"], &[("src/main/java/com/example/HealthController.java", controller)]);
    assert_passes(&r, "health-endpoint-missing");
}

#[test]
fn jpa_needs_flyway_or_liquibase() {
    assert_missing(&maven(&["spring-boot-starter-web", "spring-boot-starter-data-jpa"], &[]), "migrations-missing");
    let flyway = maven(&["spring-boot-starter-web", "spring-boot-starter-data-jpa", "flyway-core"], &[]);
    assert_passes(&flyway, "migrations-missing");
    let files = maven(
        &["spring-boot-starter-web", "spring-boot-starter-data-jpa"],
        &[("src/main/resources/db/migration/V1__init.sql", "CREATE TABLE owners (id bigint);\n")],
    );
    assert_passes(&files, "migrations-missing");
    let liquibase = maven(
        &["spring-boot-starter-web", "spring-boot-starter-data-jpa"],
        &[("src/main/resources/db/changelog/db.changelog-master.yaml", "databaseChangeLog: []\n")],
    );
    assert_passes(&liquibase, "migrations-missing");
}

#[test]
fn tests_under_src_test_java_and_ci_running_maven() {
    let ci = "name: ci\non: [push]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: ./mvnw -B verify\n";
    let r = maven(
        &["spring-boot-starter-web"],
        &[("src/test/java/com/example/AppTests.java", TEST), (".github/workflows/ci.yml", ci)],
    );
    assert_passes(&r, "tests-missing");
    assert_passes(&r, "tests-not-in-ci");
    assert_passes(&r, "ci-missing");
    let untested = maven(&["spring-boot-starter-web"], &[]);
    assert_missing(&untested, "tests-missing");
    let no_run = maven(
        &["spring-boot-starter-web"],
        &[
            ("src/test/java/com/example/AppTests.java", TEST),
            (".github/workflows/ci.yml", &ci.replace("./mvnw -B verify", "echo build")),
        ],
    );
    assert_missing(&no_run, "tests-not-in-ci");
}

#[test]
fn dockerfile_hygiene_for_a_jar() {
    let single = "FROM eclipse-temurin:21\nWORKDIR /app\nCOPY . .\nRUN ./mvnw -B package -DskipTests\nCMD [\"java\", \"-jar\", \"target/app.jar\"]\n";
    let r = maven(&["spring-boot-starter-web"], &[("Dockerfile", single)]);
    assert_eq!(outcome(&r, "docker-single-stage"), Outcome::Fail);
    assert_eq!(outcome(&r, "docker-root-user"), Outcome::Fail);
    let multi = "FROM maven:3.9-eclipse-temurin-21 AS build\nWORKDIR /src\nCOPY . .\nRUN mvn -B package -DskipTests\n\nFROM eclipse-temurin:21-jre\nCOPY --from=build /src/target/app.jar /app.jar\nUSER 1000\nHEALTHCHECK CMD curl -f http://localhost:8080/actuator/health || exit 1\nCMD [\"java\", \"-jar\", \"/app.jar\"]\n";
    let r = maven(&["spring-boot-starter-web"], &[("Dockerfile", multi), (".dockerignore", "target\n")]);
    for id in ["docker-single-stage", "docker-root-user", "docker-healthcheck-missing", "docker-unpinned-base"] {
        assert_passes(&r, id);
    }
}

#[test]
fn gradle_dynamic_versions_need_a_lockfile() {
    let dynamic = "dependencies {\n  implementation 'org.springframework.boot:spring-boot-starter-web'\n  implementation 'com.google.guava:guava:33.+'\n}\n";
    let r = scan(&[("build.gradle", dynamic), ("src/main/java/App.java", APP)]);
    assert_eq!(outcome(&r, "lockfile-missing"), Outcome::Fail);
    let locked = scan(&[("build.gradle", dynamic), ("gradle.lockfile", "# locked\n"), ("src/main/java/App.java", APP)]);
    assert_passes(&locked, "lockfile-missing");
    let exact = dynamic.replace("33.+", "33.2.1-jre");
    let r = scan(&[("build.gradle", &exact), ("src/main/java/App.java", APP)]);
    assert_eq!(outcome(&r, "lockfile-missing"), Outcome::NotApplicable);
}

#[test]
fn production_settings_in_application_files() {
    let props = "spring.datasource.url=jdbc:sqlite:petclinic.db\nspring.jpa.hibernate.ddl-auto=update\nlogging.level.root=DEBUG\nserver.error.include-stacktrace=always\n";
    let r = maven(
        &["spring-boot-starter-web", "spring-boot-starter-data-jpa", "springdoc-openapi-starter-webmvc-ui"],
        &[("src/main/resources/application.properties", props)],
    );
    assert_fails_at(&r, "sqlite-in-production", "src/main/resources/application.properties", 1);
    assert_fails_at(&r, "schema-created-at-startup", "src/main/resources/application.properties", 2);
    assert_fails_at(&r, "log-level-hardcoded", "src/main/resources/application.properties", 3);
    assert_fails_at(&r, "debug-enabled", "src/main/resources/application.properties", 4);
    assert_eq!(outcome(&r, "api-docs-exposed"), Outcome::Fail);
    // The same settings in a dev profile, env-driven values and springdoc turned off pass.
    let yml = "spring:\n  jpa:\n    hibernate:\n      ddl-auto: ${DDL_AUTO:validate}\nspringdoc:\n  swagger-ui:\n    enabled: false\n---\nspring:\n  config:\n    activate:\n      on-profile: dev\nlogging:\n  level:\n    root: DEBUG\n";
    let r = maven(
        &["spring-boot-starter-web", "spring-boot-starter-data-jpa", "springdoc-openapi-starter-webmvc-ui"],
        &[
            ("src/main/resources/application.yml", yml),
            ("src/main/resources/application-local.properties", "spring.jpa.hibernate.ddl-auto=create-drop\n"),
        ],
    );
    for id in [
        "sqlite-in-production",
        "schema-created-at-startup",
        "log-level-hardcoded",
        "debug-enabled",
        "api-docs-exposed",
    ] {
        assert_passes(&r, id);
    }
}

#[test]
fn spring_boot_4_webmvc_starter_is_a_web_app() {
    // spring-petclinic (Spring Boot 4) declares spring-boot-starter-webmvc.
    let r = maven(&["spring-boot-starter-webmvc", "spring-boot-starter-actuator", "spring-boot-starter-data-jpa"], &[]);
    assert_eq!(r.stack.frameworks, vec!["spring-boot"]);
    assert_passes(&r, "health-endpoint-missing");
    assert_missing(&r, "migrations-missing");
}

#[test]
fn actuator_with_metrics_exposed_counts_as_metrics() {
    // spring-petclinic exposes every Actuator endpoint, metrics included.
    let props = "management.endpoints.web.exposure.include=*\n";
    let r = maven(
        &["spring-boot-starter-webmvc", "spring-boot-starter-actuator"],
        &[("src/main/resources/application.properties", props)],
    );
    assert_passes(&r, "metrics-missing");
    let health_only = maven(&["spring-boot-starter-webmvc", "spring-boot-starter-actuator"], &[]);
    assert_missing(&health_only, "metrics-missing");
}
